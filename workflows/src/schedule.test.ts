import { describe, expect, it } from 'vitest';
import { dayBefore } from './workflows/nightly';
import { NIGHTLY_SCHEDULE_ID, nightlyScheduleOptions } from './schedule';

const config = {
  temporal: { address: 'x', namespace: 'default', taskQueue: 'tidemark' },
  nightly: {
    at: '02:30',
    timeZone: 'Europe/Paris',
    catchupWindow: '3d',
    overlap: 'BUFFER_ALL' as const,
  },
};

describe('the nightly schedule', () => {
  it('fires daily at the configured local time with the chosen policies', () => {
    const options = nightlyScheduleOptions(config);
    expect(options.scheduleId).toBe(NIGHTLY_SCHEDULE_ID);
    expect(options.spec).toMatchObject({
      calendars: [{ hour: 2, minute: 30 }],
      timezone: 'Europe/Paris',
    });
    expect(options.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'nightlyConsolidationWorkflow',
      taskQueue: 'tidemark',
    });
    expect(options.policies).toEqual({
      overlap: 'BUFFER_ALL',
      catchupWindow: '3d',
      pauseOnFailure: false,
    });
  });

  it('consolidates the UTC day before its scheduled time, whatever the local time zone', () => {
    expect(dayBefore(new Date('2026-11-23T01:30:00Z'))).toBe('2026-11-22');
    // 23:30 in Los Angeles on the 22nd is already the 23rd in UTC.
    expect(dayBefore(new Date('2026-11-23T07:30:00Z'))).toBe('2026-11-22');
    expect(dayBefore(new Date('2026-03-01T00:10:00Z'))).toBe('2026-02-28');
  });
});
