export { makeOrder, seededRandom, writeOrders } from './orders';
export type { DemoOrder } from './orders';
