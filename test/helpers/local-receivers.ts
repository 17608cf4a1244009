import { outboundPolicy } from '../../alerting/destination.ts';

// Tests, benchmarks and the demo run their webhook, Slack and PagerDuty receivers on this machine,
// which the engine refuses to send to unless told (LIFELINE_OUTBOUND_ALLOW_CIDRS). Every engine
// and channel registry the tests make allows exactly loopback, through these.

export const LOCAL_RECEIVERS = ['127.0.0.0/8', '::1/128'];

/** For an engine process's environment. */
export const LOCAL_RECEIVERS_ENV = { LIFELINE_OUTBOUND_ALLOW_CIDRS: LOCAL_RECEIVERS.join(',') };

/** For an in-process app's channel checks. */
export const localReceivers = outboundPolicy(LOCAL_RECEIVERS);
