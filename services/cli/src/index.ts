export {
  describeConnector,
  registerShopConnector,
  shopConnectorConfig,
  shopStreamTopology,
} from './commands/connector';
export { startShopPipeline } from './commands/run-services';
export { runDemo } from './commands/demo';
export { migrateAll } from './commands/migrate';
export { runStackScript } from './commands/stack';
export {
  killAndRestart,
  killService,
  startService,
  type StackService,
} from './commands/stack-faults';
export { startConnectorWatchdog } from './commands/connector-watchdog';
export { renderTable } from './table';
export { REPO_ROOT, SHOP_CONNECTOR_NAME, STACK_SCRIPT } from './paths';
