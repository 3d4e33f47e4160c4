// The scaffolders' usage texts, apart from the scaffolders themselves: the CLI's help shows them
// without loading what writes files (ts-morph, Prettier, Inquirer: most of a second at start-up).

export const NEW_TABLE_USAGE = `usage: tidemark new table <schema.table> --columns <name:type[:pk|:null],...> [--event-time <column>] [--owner <team>]

  types: uuid, text, integer, bigint, boolean, numeric, date, timestamptz, jsonb
  e.g.   tidemark new table shop.refunds --columns id:uuid:pk,order_id:uuid,amount_minor:bigint,currency:text,created_at:timestamptz`;

export const NEW_METRIC_USAGE = `usage: tidemark new metric <name> --table <schema.table> --aggregate <aggregate> --window <window> [options]

  --aggregate  count | sum:<field> | avg:<field> | min:<field> | max:<field> | count_distinct:<field>
  --window     tumbling:<size> | hopping:<size>/<slide> | session:<gap>   (e.g. tumbling:1h, hopping:5m/1m)
  --keys       <field>,...         what the values are grouped by (default: none, one value per window)
  --emit       on_update | on_window_close | every:<interval>   (default: on_update for tumbling windows,
               on_window_close for the others)
  --lateness   <duration>          how long after its window closes a change still counts (default 5m)
  --description <text>, --owner <team>
  e.g. tidemark new metric refunds_per_hour --table shop.refunds --aggregate count --window tumbling:1h`;

export const NEW_CONTRACT_VERSION_USAGE = `usage: tidemark new contract-version <schema.table> [--add <name:type,...>]

  --add   the columns the new version adds (nullable in the table, optional in the contract);
          without it, the version and the migration are stubs to fill in
  e.g.    tidemark new contract-version shop.refunds --add reason:text`;

export const NEW_USAGE = [NEW_TABLE_USAGE, NEW_METRIC_USAGE, NEW_CONTRACT_VERSION_USAGE].join(
  '\n\n',
);
