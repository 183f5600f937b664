/** Every bench `npm run bench` knows, in the order a full run takes them. */
import type { Bench } from './harness.ts';
import { bench as inbound } from './inbound.bench.ts';
import { bench as nodes } from './nodes.bench.ts';
import { bench as outbound } from './outbound.bench.ts';
import { bench as reads } from './reads.bench.ts';
import { bench as realtime } from './realtime.bench.ts';
import { bench as share } from './share.bench.ts';
import { bench as widgets } from './widgets.bench.ts';

export const BENCHES: Bench[] = [inbound, reads, share, outbound, realtime, widgets, nodes];
