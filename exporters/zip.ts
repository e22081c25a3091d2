/**
 * A Bundle as a zip archive, in memory: deflated entries (stored when deflate would not shrink
 * them), CRC-32, local headers, central directory, UTF-8 names, one fixed timestamp. The same bundle
 * gives byte-identical archives (for the same zlib), so a downloaded export diffs as cleanly as a
 * folder. No zip64: an archive of more than 65,535 files or 4 GiB is refused, far beyond any export.
 */
import zlib from 'node:zlib';
import { Bundle } from './bundle';

/** 1980-01-01 00:00:00, the first moment MS-DOS time can say: no clock leaks into the archive. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** General purpose flag bit 11: names and comments are UTF-8. */
const UTF8_FLAG = 0x0800;
const STORED = 0;
const DEFLATED = 8;
/** Version 2.0 (deflate); "made by" Unix, so the external attributes carry a file mode. */
const VERSION_NEEDED = 20;
const VERSION_MADE_BY = (3 << 8) | VERSION_NEEDED;
/** A regular file, rw-r--r--. */
const FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;
const MAX_ENTRIES = 0xffff;
const MAX_SIZE = 0xffffffff;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, the one zip, gzip and PNG use). */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checkedName(name: string): Buffer {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`zip entry '${name}' is not a plain relative path`);
  }
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > 0xffff) throw new Error(`zip entry name '${name.slice(0, 40)}…' is too long`);
  return bytes;
}

/** The bundle's files as one zip archive, entries in path order. */
export function zipBundle(bundle: Bundle): Buffer {
  const names = Object.keys(bundle).sort();
  if (names.length > MAX_ENTRIES) throw new Error(`${names.length} files do not fit in a zip without zip64 (at most ${MAX_ENTRIES})`);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const nameBytes = checkedName(name);
    const data = Buffer.from(bundle[name], 'utf8');
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const method = deflated.length < data.length ? DEFLATED : STORED;
    const body = method === DEFLATED ? deflated : data;
    const crc = crc32(data);
    if (data.length > MAX_SIZE || offset + 30 + nameBytes.length + body.length > MAX_SIZE) throw new Error('the archive would exceed 4 GiB, which needs zip64');

    // The local header and the central directory record share this run of fields (version needed to name length).
    const shared = (header: Buffer, at: number) => {
      header.writeUInt16LE(VERSION_NEEDED, at);
      header.writeUInt16LE(UTF8_FLAG, at + 2);
      header.writeUInt16LE(method, at + 4);
      header.writeUInt16LE(DOS_TIME, at + 6);
      header.writeUInt16LE(DOS_DATE, at + 8);
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(body.length, at + 14);
      header.writeUInt32LE(data.length, at + 18);
      header.writeUInt16LE(nameBytes.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    shared(local, 4);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    shared(central, 6);
    central.writeUInt16LE(0, 30); // extra field length
    central.writeUInt16LE(0, 32); // comment length
    central.writeUInt16LE(0, 34); // disk number
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(FILE_ATTRIBUTES, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);

    offset += 30 + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  if (offset + directory.length > MAX_SIZE) throw new Error('the archive would exceed 4 GiB, which needs zip64');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4); // this disk
  end.writeUInt16LE(0, 6); // disk of the central directory
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20); // comment length
  return Buffer.concat([...locals, directory, end]);
}
