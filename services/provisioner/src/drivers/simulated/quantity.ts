import { PermanentDriverError } from '../cluster-driver.js';

/**
 * Kubernetes resource quantities, as far as the simulated cluster needs them: CPU in
 * cores or millicores (`2`, `0.5`, `250m`) and memory in bytes with a decimal or binary
 * suffix (`4Gi`, `256Mi`, `1G`, `1048576`).
 */

const CPU = /^(\d+(?:\.\d+)?)(m)?$/;
const MEMORY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/;

const MEMORY_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** Millicores of a CPU quantity. Throws {@link PermanentDriverError} for anything else: a bad quantity is the caller's mistake. */
export function parseCpu(quantity: string): number {
  const match = CPU.exec(quantity.trim());
  if (!match) throw new PermanentDriverError(`"${quantity}" is not a CPU quantity (like "2", "0.5" or "250m")`);
  const value = Number(match[1]);
  return Math.ceil(match[2] ? value : value * 1000);
}

/** Bytes of a memory quantity. Throws {@link PermanentDriverError} for anything else. */
export function parseMemory(quantity: string): number {
  const match = MEMORY.exec(quantity.trim());
  if (!match) throw new PermanentDriverError(`"${quantity}" is not a memory quantity (like "4Gi", "256Mi" or "1G")`);
  return Math.ceil(Number(match[1]) * MEMORY_FACTORS[match[2] ?? '']);
}

/** `2000` → `"2"`, `250` → `"250m"`. */
export function formatCpu(millicores: number): string {
  return millicores % 1000 === 0 ? String(millicores / 1000) : `${millicores}m`;
}

/** Bytes in the largest binary unit that divides them exactly: `4294967296` → `"4Gi"`. */
export function formatMemory(bytes: number): string {
  for (const unit of ['Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const factor = MEMORY_FACTORS[unit];
    if (bytes !== 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
