import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttachmentRejected, AttachmentStore } from '../../storage/attachments.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ronghe-store-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const pdf = Buffer.from('%PDF-1.7\n内容\n%%EOF');

describe('attachment store', () => {
  it('stores a file by its SHA-256, keeps one copy of equal files, and verifies it', async () => {
    const store = new AttachmentStore(root, 1024);
    const a = await store.save(Readable.from([pdf]), 'application/pdf');
    const b = await store.save(Readable.from([pdf.subarray(0, 5), pdf.subarray(5)]), 'application/pdf');
    expect(a).toEqual(b);
    expect(a.sha256).toBe(createHash('sha256').update(pdf).digest('hex'));
    expect(a.size).toBe(pdf.length);
    await expect(store.verify(a.storageKey, a.sha256)).resolves.toBe(true);
    fs.writeFileSync(path.join(root, a.storageKey), 'tampered');
    await expect(store.verify(a.storageKey, a.sha256)).resolves.toBe(false);
    await expect(store.verify('no/such', a.sha256)).resolves.toBe(false);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('refuses content that does not match its declared type, too large or empty files — and leaves nothing behind', async () => {
    const store = new AttachmentStore(root, 64);
    await expect(store.save(Readable.from([Buffer.from('GIF89a....')]), 'application/pdf')).rejects.toMatchObject({
      reason: 'type_mismatch',
    });
    await expect(
      store.save(Readable.from([Buffer.concat([pdf, Buffer.alloc(100)])]), 'application/pdf'),
    ).rejects.toBeInstanceOf(AttachmentRejected);
    await expect(store.save(Readable.from([Buffer.alloc(0)]), 'application/pdf')).rejects.toMatchObject({
      reason: 'empty',
    });
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });
});
