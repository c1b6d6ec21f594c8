import type { Platform } from './platform.ts';

/** The platform of the runtime this process runs on (`typeof Bun` tells them apart). */
export async function currentPlatform(): Promise<Platform> {
  return typeof Bun !== 'undefined' ? (await import('./bun.ts')).bunPlatform : (await import('./node.ts')).nodePlatform;
}
