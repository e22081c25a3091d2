/**
 * Run as a child process by bounded-endpoint.test, so that its peak RSS is one call's alone:
 * `node flood-client.js <url> <largest answer in bytes>` posts to <url>/v1/embeddings once and prints
 * the RSS before the call, the peak RSS and the error.
 */
import { createEndpoint } from '../../core/clients/endpoint';

async function main(): Promise<void> {
  const [url, limitText] = process.argv.slice(2);
  const limit = Number(limitText);
  const endpoint = createEndpoint({ baseUrl: url, timeoutMs: 30_000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true, maxResponseBytes: limit });
  const before = process.memoryUsage().rss;
  let error = '';
  try {
    await endpoint.postJson('/v1/embeddings', {});
  } catch (err) {
    error = (err as Error).message;
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ limit, before, peak, error }));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
