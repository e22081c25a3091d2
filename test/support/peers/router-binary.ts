/**
 * OPEA's GMC router (../shared/peers/gmc-router: GenAIInfra v1.1 cmd/router, verbatim), built once with
 * Debian's Go and kept in the temp folder under the upstream commit's name.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PEERS_DIR } from './stand-ins';

const ROUTER_DIR = path.join(PEERS_DIR, 'gmc-router');
const GO_PACKAGES = 'golang-go golang-github-tidwall-gjson-dev golang-github-spf13-pflag-dev golang-github-go-logr-logr-dev golang-github-go-logr-stdr-dev';

let built: Promise<string> | undefined;

/** Path of the router binary, built on first use (a few seconds). */
export function routerBinary(): Promise<string> {
  built ??= build().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

async function build(): Promise<string> {
  const commit = fs.readFileSync(path.join(ROUTER_DIR, 'UPSTREAM_COMMIT'), 'utf8').trim();
  const binary = path.join(os.tmpdir(), `opea-gmc-router-${commit}`, 'gmc-router');
  if (fs.existsSync(binary)) return binary;
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`building OPEA's GMC router needs Go: apt-get install -y ${GO_PACKAGES}`);
  }
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  // Built beside its final name and renamed into place, so a half-written binary is never taken for one.
  const partial = `${binary}.${process.pid}`;
  try {
    await promisify(execFile)(path.join(ROUTER_DIR, 'build.sh'), [partial], { timeout: 110_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`building OPEA's GMC router failed (Debian packages it needs: ${GO_PACKAGES}):\n${e.stderr || e.message}`);
  }
  fs.renameSync(partial, binary);
  return binary;
}
