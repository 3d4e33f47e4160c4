import { spawn } from 'node:child_process';
import { STACK_SCRIPT } from '../paths';

/** Runs infra/stack.sh up|down|status with the terminal attached; resolves to its exit code. */
export function runStackScript(action: 'up' | 'down' | 'status'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [STACK_SCRIPT, action], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
