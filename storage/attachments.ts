import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Types an attachment may have, recognised by their first bytes as well as by their declared type. */
export const allowedAttachmentTypes = {
  'application/pdf': { extension: 'pdf', magic: [Buffer.from('%PDF-')] },
  // .docx and .xlsx are ZIP containers.
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    extension: 'docx',
    magic: [Buffer.from([0x50, 0x4b, 0x03, 0x04])],
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    extension: 'xlsx',
    magic: [Buffer.from([0x50, 0x4b, 0x03, 0x04])],
  },
  'image/jpeg': { extension: 'jpg', magic: [Buffer.from([0xff, 0xd8, 0xff])] },
  'image/png': { extension: 'png', magic: [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])] },
} as const;

export type AllowedAttachmentType = keyof typeof allowedAttachmentTypes;

export function isAllowedAttachmentType(value: string): value is AllowedAttachmentType {
  return Object.hasOwn(allowedAttachmentTypes, value);
}

export class AttachmentRejected extends Error {
  override name = 'AttachmentRejected';
  constructor(
    readonly reason: 'too_large' | 'type_mismatch' | 'empty',
    message: string,
  ) {
    super(message);
  }
}

export interface StoredFile {
  sha256: string;
  size: number;
  /** Where the file lives, relative to the store's root: content-addressed, so equal files are kept once. */
  storageKey: string;
}

/**
 * Attachments live on disk outside the database, content-addressed by SHA-256. A file is streamed to a
 * temporary name while its hash and size are computed, checked, then renamed into place.
 */
export class AttachmentStore {
  constructor(
    readonly root: string,
    readonly maxBytes: number,
  ) {}

  async save(body: Readable, contentType: AllowedAttachmentType): Promise<StoredFile> {
    fs.mkdirSync(path.join(this.root, 'tmp'), { recursive: true });
    const tmp = path.join(this.root, 'tmp', randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    let head = Buffer.alloc(0);
    const maxBytes = this.maxBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new AttachmentRejected('too_large', `附件超过 ${Math.round(maxBytes / 1024 / 1024)} MB 的限制`));
          return;
        }
        if (head.length < 16) head = Buffer.concat([head, chunk.subarray(0, 16 - head.length)]);
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, fs.createWriteStream(tmp));
      if (size === 0) throw new AttachmentRejected('empty', '附件为空');
      const { magic } = allowedAttachmentTypes[contentType];
      if (!magic.some((m) => head.subarray(0, m.length).equals(m))) {
        throw new AttachmentRejected('type_mismatch', `文件内容与声明的类型 ${contentType} 不符`);
      }
      const sha256 = hash.digest('hex');
      const storageKey = path.join(sha256.slice(0, 2), sha256);
      const target = path.join(this.root, storageKey);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.renameSync(tmp, target);
      return { sha256, size, storageKey };
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** True when the stored file is present and still has the recorded hash. */
  async verify(storageKey: string, sha256: string): Promise<boolean> {
    const file = path.join(this.root, storageKey);
    if (!fs.existsSync(file)) return false;
    const hash = createHash('sha256');
    await pipeline(fs.createReadStream(file), hash);
    return hash.digest('hex') === sha256;
  }

  open(storageKey: string): fs.ReadStream {
    return fs.createReadStream(path.join(this.root, storageKey));
  }
}
