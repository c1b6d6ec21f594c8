/**
 * The launcher's window tiles (scripts/launch/tiles.ts): side by side in columns, rows when the columns would get
 * narrower than MIN_WIDTH, never overlapping while the screen holds them all, always on the screen. The windows
 * themselves are checked under Xvfb in launcher-x11.test.ts.
 */
import { describe, expect, it } from 'bun:test';
import { characters, MIN_HEIGHT, MIN_WIDTH, pixels, tiles, type Tile } from '../../scripts/launch/tiles.ts';

const overlap = (a: Tile, b: Tile) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('the launcher\'s tiles', () => {
  it('puts 3 windows side by side on a 1280x1024 screen, 4 in 2 by 2, 7 in 3 by 3', () => {
    expect(tiles(3, { width: 1280, height: 1024 }).map(pixels)).toEqual(['426x1024+0+0', '426x1024+426+0', '426x1024+852+0']);
    expect(tiles(4, { width: 1280, height: 1024 }).map(pixels)).toEqual(['640x512+0+0', '640x512+640+0', '640x512+0+512', '640x512+640+512']);
    expect(tiles(7, { width: 1280, height: 1024 }).map((t) => `${t.x},${t.y}`)).toEqual(['0,0', '426,0', '852,0', '0,341', '426,341', '852,341', '0,682']);
    expect(tiles(1, { width: 1920, height: 1080 }).map(pixels)).toEqual(['1920x1080+0+0']);
  });

  it('never overlaps while the screen holds them, and keeps every window on the screen', () => {
    for (const screen of [{ width: 1280, height: 1024 }, { width: 1920, height: 1080 }, { width: 800, height: 600 }, { width: 3840, height: 2160 }]) {
      const capacity = Math.floor(screen.width / MIN_WIDTH) * Math.floor(screen.height / MIN_HEIGHT);
      for (let count = 1; count <= 50; count++) {
        const placed = tiles(count, screen);
        expect(placed.length).toBe(count);
        for (const t of placed) {
          expect(t.x).toBeGreaterThanOrEqual(0);
          expect(t.y).toBeGreaterThanOrEqual(0);
          expect(t.x + t.width).toBeLessThanOrEqual(screen.width);
          expect(t.y + t.height).toBeLessThanOrEqual(screen.height);
          expect(t.width).toBeGreaterThanOrEqual(Math.min(MIN_WIDTH, screen.width));
          expect(t.height).toBeGreaterThanOrEqual(Math.min(MIN_HEIGHT, screen.height));
        }
        if (count > capacity) continue;
        placed.forEach((a, i) => placed.slice(i + 1).forEach((b) => expect(overlap(a, b)).toBe(false)));
      }
    }
  });

  it('gives character terminals a size that fits the tile', () => {
    // xterm: 6x13 cells inside 6 pixels of borders; 70 columns make 426 pixels
    expect(characters({ x: 426, y: 0, width: 426, height: 1024 }, { width: 6, height: 13 }, 6)).toBe('70x78+426+0');
  });
});
