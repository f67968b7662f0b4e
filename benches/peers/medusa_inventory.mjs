// Medusa 2.21.2's inventory module, standalone (MedusaApp from @medusajs/modules-sdk),
// against a throwaway PostgreSQL database: createReservationItems per second.
// Run through medusa_vs_ordersmith.sh, which installs the pinned packages into
// MEDUSA_PEER_DIR and creates the database in MEDUSA_DB_URL.
//
// Cases (one RESULT line each, like ordersmith's examples/peer_reservations.rs):
//   sequential      one caller, one reservation per call, over 100 items
//   hot_8_callers   8 concurrent callers, one reservation per call, one item, each
//                   call inside the locking module's default (in-process) lock
//   hot_8_callers_pg_lock  the same with the PostgreSQL advisory-lock provider
//   spread_8_callers  8 concurrent callers, one reservation per call, each caller on
//                   its own 12 items (no lock: no two callers share an item)
//   batch_100       one caller, 100 reservations per call (an array)
import { createRequire } from "node:module";
import path from "node:path";

const dir = process.env.MEDUSA_PEER_DIR;
const clientUrl = process.env.MEDUSA_DB_URL;
const n = Number(process.argv[2] ?? 300);
if (!dir || !clientUrl) {
  console.error("set MEDUSA_PEER_DIR and MEDUSA_DB_URL (see medusa_vs_ordersmith.sh)");
  process.exit(2);
}
const require = createRequire(path.join(dir, "package.json"));
const { MedusaApp, MedusaAppMigrateUp } = require("@medusajs/modules-sdk");
const { Modules, ContainerRegistrationKeys } = require("@medusajs/framework/utils");

// The modules log through an injected logger; keep warnings and errors only.
const quiet = () => {};
const logger = {
  info: quiet,
  debug: quiet,
  log: quiet,
  activity: quiet,
  progress: quiet,
  success: quiet,
  shouldLog: () => false,
  setLogLevel: quiet,
  unsetLogLevel: quiet,
  panic: (...a) => console.error(...a),
  failure: (...a) => console.error(...a),
  warn: (...a) => console.error(...a),
  error: (...a) => console.error(...a),
};

const options = {
  modulesConfig: {
    [Modules.INVENTORY]: { resolve: "@medusajs/inventory" },
    [Modules.LOCKING]: {
      resolve: "@medusajs/locking",
      options: {
        providers: [
          {
            resolve: "@medusajs/locking-postgres",
            id: "locking-postgres",
            is_default: false,
          },
        ],
      },
    },
  },
  sharedResourcesConfig: { database: { clientUrl, driverOptions: { connection: { ssl: false } } } },
  injectedDependencies: { [ContainerRegistrationKeys.LOGGER]: logger },
  cwd: dir,
};

await MedusaAppMigrateUp(options);
const app = await MedusaApp(options);
const inventory = app.modules[Modules.INVENTORY];
const locking = app.modules[Modules.LOCKING];

const location = "sloc_ist";
const items = await inventory.createInventoryItems(
  Array.from({ length: 100 }, (_, k) => ({ sku: `ITEM-${String(k).padStart(3, "0")}` })),
);
await inventory.createInventoryLevels(
  items.map((item) => ({
    inventory_item_id: item.id,
    location_id: location,
    stocked_quantity: 1_000_000,
  })),
);
const reservation = (k, line) => ({
  inventory_item_id: items[k].id,
  location_id: location,
  quantity: 1,
  line_item_id: line,
});

const report = (name, count, started) => {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`RESULT case=${name} reservations=${count} per_s=${Math.round(count / seconds)}`);
};

let started = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  await inventory.createReservationItems([reservation(i % 100, `seq-${i}`)]);
}
report("sequential", n, started);

const hot = async (name, provider) => {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        await locking.execute(
          items[0].id,
          () => inventory.createReservationItems([reservation(0, `${name}-${i}`)]),
          provider ? { provider } : undefined,
        );
      }
    }),
  );
  report(name, n, started);
};
await hot("hot_8_callers");
await hot("hot_8_callers_pg_lock", "locking-postgres");

{
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 8 }, async (_, t) => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        await inventory.createReservationItems([reservation(t * 12 + (i % 12), `spread-${i}`)]);
      }
    }),
  );
  report("spread_8_callers", n, started);
}

const calls = Math.max(1, Math.floor(n / 100));
started = process.hrtime.bigint();
for (let c = 0; c < calls; c++) {
  await inventory.createReservationItems(
    Array.from({ length: 100 }, (_, k) => reservation(k, `batch-${c}-${k}`)),
  );
}
report("batch_100", calls * 100, started);

await app.onApplicationShutdown();
process.exit(0);
