import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { TidemarkError } from './errors';

describe('loadConfig', () => {
  it('defaults to the native stack on 127.0.0.1', () => {
    const config = loadConfig({});
    expect(config.source).toMatchObject({
      host: '127.0.0.1',
      port: 5432,
      database: 'source',
      user: 'tidemark_app',
    });
    expect(config.warehouse.user).toBe('tidemark_platform');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
  });

  it('splits a broker list and trims a trailing slash from the Connect URL', () => {
    const config = loadConfig({
      TIDEMARK_KAFKA_BROKERS: 'a:9092, b:9092',
      TIDEMARK_CONNECT_URL: 'http://connect:8083/',
    });
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9092']);
    expect(config.connect.url).toBe('http://connect:8083');
  });

  it('lists every invalid setting at once', () => {
    let caught: unknown;
    try {
      loadConfig({ TIDEMARK_PG_PORT: 'seventy', TIDEMARK_LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TidemarkError);
    const error = caught as TidemarkError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('TIDEMARK_PG_PORT');
    expect(error.message).toContain('TIDEMARK_LOG_LEVEL');
  });

  it('reads the stream settings, refusing a start position it does not know', () => {
    const config = loadConfig({
      TIDEMARK_STREAM_PIPELINE: 'blue',
      TIDEMARK_STREAM_START: 'latest',
    });
    expect(config.stream).toMatchObject({ pipeline: 'blue', startAt: 'latest', metricsPort: 9464 });
    expect(() => loadConfig({ TIDEMARK_STREAM_START: 'middle' })).toThrow(/TIDEMARK_STREAM_START/);
    expect(config.stream.concurrency).toBe(8);
    expect(loadConfig({ TIDEMARK_STREAM_CONCURRENCY: '3' }).stream.concurrency).toBe(3);
    expect(() => loadConfig({ TIDEMARK_STREAM_CONCURRENCY: '0' })).toThrow(
      /TIDEMARK_STREAM_CONCURRENCY/,
    );
  });

  it('reads the limits a message must keep to, with defaults', () => {
    expect(loadConfig({}).stream).toMatchObject({
      maxMessageBytes: 1_048_576,
      plausibleFromMs: Date.parse('2000-01-01T00:00:00Z'),
      plausibleAheadMs: 86_400_000,
    });
    const custom = loadConfig({
      TIDEMARK_STREAM_PLAUSIBLE_FROM: '2020-06-01',
      TIDEMARK_STREAM_PLAUSIBLE_AHEAD: '90m',
      TIDEMARK_STREAM_MAX_MESSAGE_BYTES: '65536',
    }).stream;
    expect(custom).toMatchObject({
      maxMessageBytes: 65_536,
      plausibleFromMs: Date.parse('2020-06-01T00:00:00Z'),
      plausibleAheadMs: 90 * 60_000,
    });
    expect(() =>
      loadConfig({
        TIDEMARK_STREAM_PLAUSIBLE_FROM: 'yesterday',
        TIDEMARK_STREAM_PLAUSIBLE_AHEAD: '1w',
      }),
    ).toThrow(/TIDEMARK_STREAM_PLAUSIBLE_FROM[\s\S]*TIDEMARK_STREAM_PLAUSIBLE_AHEAD/);
  });

  it('reads the nightly schedule, naming every bad setting', () => {
    expect(loadConfig({}).nightly).toEqual({
      at: '02:30',
      timeZone: 'UTC',
      catchupWindow: '3d',
      overlap: 'BUFFER_ALL',
    });
    expect(
      loadConfig({ TIDEMARK_NIGHTLY_AT: '23:05', TIDEMARK_NIGHTLY_TIMEZONE: 'Europe/Paris' })
        .nightly,
    ).toMatchObject({ at: '23:05', timeZone: 'Europe/Paris' });
    let message = '';
    try {
      loadConfig({
        TIDEMARK_NIGHTLY_AT: '24:00',
        TIDEMARK_NIGHTLY_TIMEZONE: 'Mars/Olympus',
        TIDEMARK_NIGHTLY_CATCHUP_WINDOW: 'forever',
        TIDEMARK_NIGHTLY_OVERLAP: 'SOMETIMES',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['AT', 'TIMEZONE', 'CATCHUP_WINDOW', 'OVERLAP']) {
      expect(message).toContain(`TIDEMARK_NIGHTLY_${name}`);
    }
  });
});
