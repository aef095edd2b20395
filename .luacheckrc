std = "max"
max_line_length = 79
files["spec"] = { std = "+busted" }
files["emulator"] = { std = "luajit" }
