/**
 * Minimal ZIP reading and writing for `.keras` archives, on top of fflate.
 *
 * Reading parses the central directory itself (so that every failure gets a
 * precise message), inflates deflated members with fflate and checks each
 * member's CRC-32. Writing mirrors what Python's `zipfile` does in
 * `keras.saving.saving_lib`: members stored uncompressed, Unix attributes
 * `0o600`, in the order given.
 */
import { inflateSync, zipSync, type Zippable } from 'fflate';
import { MasqueError } from '../errors.js';

/** One member to write. `mtime` defaults to 1980-01-01 00:00 (what `zipfile.open(name, 'w')` writes). */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
  mtime?: Date;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (ZIP polynomial) of `data`, as an unsigned 32-bit number. */
export function crc32(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function corrupt(what: string, expected: string, received: string): MasqueError {
  return new MasqueError('CORRUPT_FILE', `${what}: expected ${expected}; received ${received}.`);
}

/**
 * Reads every member of a ZIP archive. `label` names the archive in error
 * messages (e.g. "the .keras file"). Throws `CORRUPT_FILE` when the bytes are
 * not a complete ZIP archive or a member fails its CRC check.
 */
export function readZip(bytes: Uint8Array, label = 'the ZIP archive'): Map<string, Uint8Array> {
  if (!(bytes instanceof Uint8Array)) {
    throw new MasqueError('INVALID_ARGUMENT', `${label}: expected a Uint8Array of bytes; received a value of type ${typeof bytes}.`);
  }
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = n >= 4 ? view.getUint32(0, true) : -1;
  if (head !== 0x04034b50 && head !== 0x06054b50) {
    const first = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw corrupt(label, 'a ZIP archive starting with bytes 50 4b 03 04 ("PK")', n === 0 ? 'an empty file' : `${n} bytes starting with ${first}`);
  }
  // The end-of-central-directory record is in the last 22 + 65535 bytes.
  let eocd = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) {
    throw corrupt(label, 'an end-of-central-directory record at the end of the ZIP archive', `none in ${n} bytes (the file is truncated or not a ZIP archive)`);
  }
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    throw new MasqueError('UNSUPPORTED_FILE', `${label}: expected a ZIP archive without ZIP64 extensions; received a ZIP64 archive, which Masque does not read.`);
  }
  if (cdOffset + cdSize > eocd) {
    throw corrupt(label, `a central directory of ${cdSize} bytes at offset ${cdOffset}`, `an archive whose directory ends at byte ${eocd} (truncated or damaged)`);
  }
  const out = new Map<string, Uint8Array>();
  const decoder = new TextDecoder();
  let p = cdOffset;
  for (let e = 0; e < count; e++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== 0x02014b50) {
      throw corrupt(label, `central directory entry ${e + 1} of ${count} at offset ${p}`, 'bytes without its signature (damaged archive)');
    }
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const csize = view.getUint32(p + 20, true);
    const usize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (local + 30 > n || view.getUint32(local, true) !== 0x04034b50) {
      throw corrupt(`${label}, member "${name}"`, `a local header at offset ${local}`, 'bytes without its signature (damaged archive)');
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + csize > n) {
      throw corrupt(`${label}, member "${name}"`, `${csize} bytes of data at offset ${start}`, `an archive of only ${n} bytes (truncated)`);
    }
    const raw = bytes.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = raw.slice();
    else if (method === 8) {
      try {
        data = inflateSync(raw, { out: new Uint8Array(usize) });
      } catch (err) {
        throw corrupt(`${label}, member "${name}"`, 'valid deflate-compressed data', `data that fails to inflate (${(err as Error).message})`);
      }
    } else {
      throw new MasqueError('UNSUPPORTED_FILE', `${label}, member "${name}": expected compression method 0 (stored) or 8 (deflate); received method ${method}.`);
    }
    if (data.length !== usize) {
      throw corrupt(`${label}, member "${name}"`, `${usize} bytes after decompression`, `${data.length} bytes`);
    }
    const got = crc32(data);
    if (got !== crc) {
      throw corrupt(`${label}, member "${name}"`, `CRC-32 ${crc.toString(16).padStart(8, '0')}`, `CRC-32 ${got.toString(16).padStart(8, '0')} (damaged data)`);
    }
    out.set(name, data);
  }
  return out;
}

/** Writes a ZIP archive with stored (uncompressed) members in the given order. */
export function writeZip(entries: readonly ZipEntry[]): Uint8Array {
  const files: Zippable = {};
  for (const e of entries) {
    if (e.name in files) {
      throw new MasqueError('INVALID_ARGUMENT', `writeZip: expected unique member names; received "${e.name}" twice.`);
    }
    files[e.name] = [e.data, { level: 0, mtime: e.mtime ?? new Date(1980, 0, 1), os: 3, attrs: 0o600 << 16 }];
  }
  return zipSync(files);
}
