// The relay's checkpoint: a tiny SQLite file, fsynced on every save, so at-least-once holds across crashes.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FromPosition } from '../store/port.js';
import type { RelayCheckpoint } from './relay.js';

export function sqliteCheckpoint(path: string, name = 'relay'): RelayCheckpoint {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position TEXT NOT NULL)');
  const read = db.prepare<[string], { position: string }>('SELECT position FROM checkpoints WHERE name = ?');
  const write = db.prepare('INSERT INTO checkpoints(name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position');
  return {
    load(): FromPosition {
      const row = read.get(name);
      return row ? BigInt(row.position) : 'start';
    },
    save(position) {
      write.run(name, position.toString());
    },
    close() {
      db.close();
    },
  };
}
