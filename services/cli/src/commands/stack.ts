import { spawn } from 'node:child_process';
import { STACK_SCRIPT } from '../paths';

/**
 * Runs infra/stack.sh up|down|status with the terminal attached (or its output discarded when
 * `quiet`); resolves to its exit code.
 */
export function runStackScript(
  action: 'up' | 'down' | 'status',
  options: { quiet?: boolean } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [STACK_SCRIPT, action], {
      stdio: options.quiet ? 'ignore' : 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
