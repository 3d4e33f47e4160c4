import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../paths';

// docker-compose.yml runs official images where Docker is, and the images of infra/images where
// it is not (infra/podman.sh). Each local image's entrypoint declares the environment it reads
// (`# reads:`, `*` for a prefix) and requires (`# requires:`); what the compose file passes must
// stay within it, or a service would silently run differently on the two paths.

interface ComposeService {
  image: string;
  environment?: Record<string, unknown>;
  entrypoint?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const repoFile = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The local image of each image variable, as infra/podman/images.sh names it. */
const localImages = new Map(
  [
    ...repoFile('infra/podman/images.sh').matchAll(
      /^(TIDEMARK_\w+_IMAGE)=localhost\/tidemark\/([\w-]+):/gm,
    ),
  ].map(([, variable, directory]) => [variable as string, directory as string]),
);

/** A service's image variable and its default, from `${VARIABLE:-default}`. */
function imageVariable(
  service: ComposeService,
): { variable: string; fallback: string } | undefined {
  const match = /^\$\{(TIDEMARK_\w+_IMAGE):-([^}]+)\}$/.exec(service.image);
  return match ? { variable: match[1] as string, fallback: match[2] as string } : undefined;
}

/** The names a `# reads:` or `# requires:` line of a file declares. */
function declared(text: string, label: 'reads' | 'requires'): string[] {
  const line = new RegExp(`^# ${label}: (.*)$`, 'm').exec(text);
  return line ? (line[1] as string).split(/\s+/) : [];
}

/** What an image's entrypoint declares; an image without one of its own reads nothing. */
function declaredBy(directory: string, label: 'reads' | 'requires'): string[] {
  const entrypoint = `infra/images/${directory}/entrypoint.sh`;
  return existsSync(join(REPO_ROOT, entrypoint)) ? declared(repoFile(entrypoint), label) : [];
}

function readBy(names: readonly string[], variable: string): boolean {
  return names.some((name) =>
    name.endsWith('*') ? variable.startsWith(name.slice(0, -1)) : name === variable,
  );
}

/** The variables a shell script refers to ($NAME or ${NAME…}). */
function shellVariables(script: string): string[] {
  return [...script.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)].map(([, name]) => name as string);
}

/** The host files a service mounts, by their path in the repository. */
function mountedFiles(service: ComposeService): string[] {
  return (service.volumes ?? [])
    .map((volume) => volume.split(':')[0] as string)
    .filter((source) => source.startsWith('./'))
    .map((source) => source.slice(2));
}

/** What a service's container reads of its environment, by its image's own entrypoint. */
function variablesRead(name: string, service: ComposeService, directory: string): string[] {
  const reads = declaredBy(directory, 'reads');
  if (name === 'postgres') {
    // The init scripts run with the container's environment.
    for (const file of mountedFiles(service)) {
      reads.push(
        ...[...repoFile(file).matchAll(/^\\getenv \w+ (\w+)$/gm)].map(([, v]) => v as string),
      );
      if (file.endsWith('.sh')) reads.push(...shellVariables(repoFile(file)));
    }
  }
  const allowlist = service.environment?.CONNECT_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN;
  if (typeof allowlist === 'string') {
    // The worker's env config provider reads what its pattern allows ($$ is compose's $).
    const pattern = new RegExp(allowlist.replaceAll('$$', '$'));
    reads.push(...Object.keys(service.environment ?? {}).filter((v) => pattern.test(v)));
  }
  return reads;
}

const built = Object.entries(compose.services).filter(
  ([, service]) => imageVariable(service) && localImages.has(imageVariable(service)!.variable),
);

describe('docker-compose.yml and the images of infra/images', () => {
  it('takes every service of the stack from a variable defaulting to an official image', () => {
    expect(built.map(([name]) => name).sort()).toEqual(
      ['connect', 'kafka', 'kafka-setup', 'postgres', 'temporal'].sort(),
    );
    for (const [, service] of built) {
      expect(imageVariable(service)!.fallback).not.toMatch(/^localhost\//);
    }
  });

  const ownEntrypoints = built.filter(([, service]) => service.entrypoint === undefined);
  it.each(ownEntrypoints)('passes %s only variables its local image reads', (name, service) => {
    const directory = localImages.get(imageVariable(service)!.variable) as string;
    const reads = variablesRead(name, service, directory);
    const unread = Object.keys(service.environment ?? {}).filter((v) => !readBy(reads, v));
    expect(unread, `${name}: variables infra/images/${directory} does not read`).toEqual([]);
  });

  it.each(ownEntrypoints)('passes %s every variable its local image requires', (_name, service) => {
    const directory = localImages.get(imageVariable(service)!.variable) as string;
    const required = declaredBy(directory, 'requires');
    const passed = Object.keys(service.environment ?? {});
    expect(required.filter((v) => !passed.includes(v))).toEqual([]);
  });

  it('runs the scripts of a service with its own entrypoint with the tools its image has', () => {
    const scripted = built.filter(([, service]) => service.entrypoint !== undefined);
    expect(scripted.map(([name]) => name)).toEqual(['kafka-setup']);
    for (const [, service] of scripted) {
      const directory = localImages.get(imageVariable(service)!.variable) as string;
      const tools = mountedFiles(service).flatMap((file) => [
        ...repoFile(file).matchAll(/\/opt\/kafka\/bin\/([\w.-]+)/g),
      ]);
      expect(tools.length).toBeGreaterThan(0);
      for (const [, tool] of tools) {
        expect(existsSync(join(REPO_ROOT, `infra/images/${directory}/bin/${tool}`)), tool).toBe(
          true,
        );
      }
    }
  });

  it('notices a variable no image reads', () => {
    const [, connect] = built.find(([name]) => name === 'connect')!;
    const drifted = { ...connect, environment: { ...connect.environment, REST_PORT: '8084' } };
    const reads = variablesRead('connect', drifted, 'connect');
    expect(readBy(reads, 'REST_PORT')).toBe(false);
    expect(readBy(reads, 'CONNECT_REST_PORT')).toBe(true);
  });
});
