/**
 * `deno task start`: runs every service listed in infra/services.ts under the supervisor
 * (infra/supervisor.ts) until Ctrl-C or SIGTERM. Exit code 0 after a requested stop, 1 when a
 * service failed for good, 2 for a wrong command line.
 *
 * Usage: `deno run -A scripts/start.ts [--services FILE]`, where FILE is a module exporting
 * `SERVICES` like infra/services.ts does (tests pass their own).
 * @module
 */
import { pathToFileURL } from "node:url";
import { parseArgs, UsageError } from "@modelpress/cli";
import { SERVICES, type ServiceSpec } from "../infra/services.ts";
import { runSupervisor } from "../infra/supervisor.ts";

const HELP = `Usage: deno task start [--services FILE]

Starts every service listed in infra/services.ts as its own process, waits for each health
check, prints a status table, restarts crashed services (a few times), and stops them all on
Ctrl-C or SIGTERM.

Options:
  --services FILE  A module exporting SERVICES to run instead of infra/services.ts
  -h, --help       Show this help
`;

async function loadServices(file: string): Promise<readonly ServiceSpec[]> {
  const module = await import(pathToFileURL(await Deno.realPath(file)).href);
  if (!Array.isArray(module.SERVICES)) {
    throw new TypeError(`Cannot load services from '${file}': it exports no SERVICES array`);
  }
  return module.SERVICES;
}

async function main(args: readonly string[]): Promise<number> {
  let services: readonly ServiceSpec[] = SERVICES;
  try {
    const parsed = parseArgs(args, {
      boolean: ["help"],
      string: ["services"],
      alias: { h: "help" },
    });
    if (parsed.booleans.has("help")) {
      console.log(HELP.trimEnd());
      return 0;
    }
    if (parsed.positionals.length > 0) {
      throw new UsageError(`Unexpected argument '${parsed.positionals[0]}'`);
    }
    const file = parsed.strings.get("services");
    if (file !== undefined) services = await loadServices(file);
    return await runSupervisor(services);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (e instanceof UsageError) {
      console.error("Run 'deno task start --help' for usage.");
      return 2;
    }
    return 1;
  }
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
