import { describe, expect, it } from 'vitest';
import { windowsFor } from './windows';

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);

describe('windowsFor', () => {
  it('puts an event in the one tumbling window containing it, aligned to the epoch', () => {
    expect(
      windowsFor({ kind: 'tumbling', sizeMs: MINUTE }, at('2026-11-23T10:03:59.999Z')),
    ).toEqual([{ startMs: at('2026-11-23T10:03:00Z'), endMs: at('2026-11-23T10:04:00Z') }]);
  });

  it('treats a window end as exclusive', () => {
    const [window] = windowsFor({ kind: 'tumbling', sizeMs: MINUTE }, at('2026-11-23T10:04:00Z'));
    expect(window?.startMs).toBe(at('2026-11-23T10:04:00Z'));
  });

  it('puts an event in size/slide hopping windows, oldest first', () => {
    const windows = windowsFor(
      { kind: 'hopping', sizeMs: 5 * MINUTE, slideMs: MINUTE },
      at('2026-11-23T10:03:30Z'),
    );
    expect(windows.map((window) => new Date(window.startMs).toISOString())).toEqual([
      '2026-11-23T09:59:00.000Z',
      '2026-11-23T10:00:00.000Z',
      '2026-11-23T10:01:00.000Z',
      '2026-11-23T10:02:00.000Z',
      '2026-11-23T10:03:00.000Z',
    ]);
    for (const window of windows) expect(window.endMs - window.startMs).toBe(5 * MINUTE);
  });

  it('handles event times before the epoch', () => {
    expect(windowsFor({ kind: 'tumbling', sizeMs: MINUTE }, -1)).toEqual([
      { startMs: -MINUTE, endMs: 0 },
    ]);
  });
});
