/**
 * Where the launcher's windows go: tiles of the X screen, side by side in columns (and in rows too when the
 * columns would get too narrow), so that no window hides another, even without a window manager to place them.
 */

/** A window's place on the screen, in pixels: its outer rectangle. */
export interface Tile { x: number; y: number; width: number; height: number }
export interface Screen { width: number; height: number }

/** The narrowest and lowest a tile gets: about 66x15 characters of xterm's default 6x13 font. */
export const MIN_WIDTH = 400;
export const MIN_HEIGHT = 200;
/** Past what fits on the screen, tiles start over this much further down and to the right. */
const CASCADE = 32;

/**
 * `count` tiles of `screen`: as many columns as fit (each MIN_WIDTH at least), then rows; when even that leaves
 * a tile lower than MIN_HEIGHT, the screen holds what fits and the rest cascade over them.
 */
export function tiles(count: number, screen: Screen): Tile[] {
  const fitColumns = Math.max(1, Math.floor(screen.width / MIN_WIDTH));
  const fitRows = Math.max(1, Math.floor(screen.height / MIN_HEIGHT));
  const rows = Math.min(Math.ceil(count / fitColumns), fitRows);
  const columns = Math.min(fitColumns, Math.ceil(count / rows)); // 4 windows: 2 by 2, not 3 and 1
  const width = Math.floor(screen.width / columns);
  const height = Math.floor(screen.height / rows);
  const perScreen = columns * rows;
  return Array.from({ length: count }, (_, i) => {
    const slot = i % perScreen;
    const shift = Math.floor(i / perScreen) * CASCADE;
    return {
      x: Math.min((slot % columns) * width + shift, screen.width - width),
      y: Math.min(Math.floor(slot / columns) * height + shift, screen.height - height),
      width,
      height,
    };
  });
}

/** The X screen's size, from xdpyinfo or else xwininfo (x11-utils); null without either, or without X. */
export function screenSize(): Screen | null {
  if (!process.env.DISPLAY) return null; // Wayland alone: windows cannot place themselves
  const probes: [string[], RegExp][] = [
    [['xdpyinfo'], /dimensions:\s+(\d+)x(\d+) pixels/],
    [['xwininfo', '-root'], /Width: (\d+)\s+Height: (\d+)/],
  ];
  for (const [command, pattern] of probes) {
    if (!Bun.which(command[0]!)) continue;
    const run = Bun.spawnSync(command, { stdin: 'ignore', stdout: 'pipe', stderr: 'ignore' });
    const found = run.exitCode === 0 ? run.stdout.toString().match(pattern) : null;
    if (found) return { width: Number(found[1]), height: Number(found[2]) };
  }
  return null;
}

/** A tile as a pixel geometry, WxH+X+Y (terminator's --geometry). */
export const pixels = (t: Tile) => `${t.width}x${t.height}+${t.x}+${t.y}`;

/**
 * A tile as a geometry in characters, COLSxROWS+X+Y, for a terminal whose character cell is `cell` pixels and
 * which adds `frame` pixels around the text (xterm: its internal border and its window border).
 */
export function characters(t: Tile, cell: { width: number; height: number }, frame: number): string {
  const columns = Math.max(20, Math.floor((t.width - frame) / cell.width));
  const rows = Math.max(5, Math.floor((t.height - frame) / cell.height));
  return `${columns}x${rows}+${t.x}+${t.y}`;
}
