import { describe, expect, it } from 'vitest';
import { loadConfig, parseCredentialsFile } from './config';
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

  it('gives every deployable a warehouse role of its own, never the owner', () => {
    const config = loadConfig({});
    const owner = config.warehouse.user;
    const roles = [config.warehouseStream, config.warehouseWorker, config.warehouseReader];
    expect(roles.map((role) => role.user)).toEqual([
      'tidemark_stream',
      'tidemark_worker',
      'tidemark_reader',
    ]);
    expect(roles.every((role) => role.user !== owner && role.database === 'warehouse')).toBe(true);
    expect(config.sourceReader.user).toBe('tidemark_worker');
  });

  it('takes passwords from the environment, else from the development credentials file', () => {
    const defaults = loadConfig({});
    expect(defaults.warehouseStream.password).toMatch(/^dev-/);
    expect(defaults.kafka.principals.stream.password).toMatch(/^dev-/);
    const set = loadConfig({
      TIDEMARK_PG_STREAM_PASSWORD: 's3cret',
      TIDEMARK_KAFKA_STREAM_PASSWORD: 'k',
    });
    expect(set.warehouseStream.password).toBe('s3cret');
    expect(set.kafka.principals.stream.password).toBe('k');
    // Passwords equal to role names were the old defaults; none may be.
    expect(defaults.warehouse.password).not.toBe(defaults.warehouse.user);
  });

  it('authenticates to Kafka with SCRAM-SHA-512 by default, and can turn SASL off or TLS on', () => {
    expect(loadConfig({}).kafka).toMatchObject({
      saslMechanism: 'scram-sha-512',
      ssl: false,
      principals: { admin: { username: 'admin' }, stream: { username: 'stream' } },
    });
    const plain = loadConfig({ TIDEMARK_KAFKA_SASL_MECHANISM: 'none', TIDEMARK_KAFKA_SSL: 'true' });
    expect(plain.kafka.saslMechanism).toBeUndefined();
    expect(plain.kafka.ssl).toBe(true);
    expect(() => loadConfig({ TIDEMARK_KAFKA_SASL_MECHANISM: 'kerberos' })).toThrow(
      /TIDEMARK_KAFKA_SASL_MECHANISM/,
    );
  });

  it('parses the credentials file, skipping comments', () => {
    expect(parseCredentialsFile('# a comment\nTIDEMARK_X=a=b\n\nOTHER=1\n')).toEqual({
      TIDEMARK_X: 'a=b',
    });
  });
});
