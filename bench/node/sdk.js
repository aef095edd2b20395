// The official Stytch Node SDK: N updateConnection calls, same body.
// Prints "<requests per second> <peak RSS in KiB>".
const stytch = require("stytch");

const [url, n] = [process.argv[2], Number(process.argv[3])];
const client = new stytch.B2BClient({
  project_id: "project-test-bench",
  secret: "bench",
  custom_base_url: url,
});

(async () => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await client.sso.oidc.updateConnection({
      organization_id: "organization-test-bench",
      connection_id: "oidc-connection-test-bench",
      display_name: "Bench",
      issuer: "https://idp.example",
      client_id: "bench-client",
      client_secret: "bench-secret",
    });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${Math.round(n / seconds)} ${process.resourceUsage().maxRSS}`);
})().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
