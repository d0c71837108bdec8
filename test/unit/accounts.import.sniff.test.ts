import { describe, expect, it } from 'vitest';
import { ImportFileRejected, readImportFile } from '../../services/accounts.import.js';

/**
 * A file that is not a sheet is told so (415), whatever Content-Type it came with: the bytes are sniffed before
 * they are read as CSV, so a PDF is never reported as a sheet whose first line is an unknown header (422).
 */

async function rejection(bytes: Buffer, contentType: string): Promise<ImportFileRejected> {
  try {
    await readImportFile(bytes, contentType);
  } catch (err) {
    if (err instanceof ImportFileRejected) return err;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

const CSV = Buffer.from(
  '姓名,电子邮箱,账号类型,人员角色,单位,专家编号\r\n李明,li.ming@ronghe.example,工作人员,业务人员,,\r\n',
);

describe('the account import sniffs what it was sent', () => {
  const binaries: [string, Buffer, string][] = [
    [
      'a PDF (the walk’s example)',
      Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n', 'latin1'),
      'PDF 文件',
    ],
    ['a PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), 'PNG 图片'],
    ['a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]), 'JPEG 图片'],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), 'GIF 图片'],
    ['a gzip archive', Buffer.from([0x1f, 0x8b, 0x08, 0x00]), 'gzip 压缩文件'],
  ];
  for (const [what, bytes, kind] of binaries) {
    for (const contentType of ['application/octet-stream', 'text/csv']) {
      it(`when ${what} is sent as ${contentType}, then media_type (415) naming it and saying to save as .xlsx`, async () => {
        const err = await rejection(bytes, contentType);
        expect(err.reason).toBe('media_type');
        expect(err.message).toContain(kind);
        expect(err.message).toContain('.xlsx');
      });
    }
  }

  it('when an old .xls (OLE2, D0CF11E0) is sent as application/octet-stream, then media_type saying to save as .xlsx', async () => {
    const err = await rejection(
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
      'application/octet-stream',
    );
    expect(err.reason).toBe('media_type');
    expect(err.message).toContain('.xlsx');
  });

  it('when an unknown binary file (NUL or other control bytes) is sent as CSV, then media_type, not a sheet problem', async () => {
    for (const bytes of [Buffer.from('abc\u0000def\n'), Buffer.from('姓名,电子邮箱\n\u0001\u0002\u0003\n')]) {
      const err = await rejection(bytes, 'application/octet-stream');
      expect(err.reason).toBe('media_type');
      expect(err.message).toContain('.xlsx');
    }
  });

  it('when a CSV with tabs, CRLF and a UTF-8 BOM is sent as octet-stream, then it is read', async () => {
    const sheet = await readImportFile(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), CSV]),
      'application/octet-stream',
    );
    expect(sheet.format).toBe('csv');
    expect(sheet.encoding).toBe('utf-8');
  });
});

describe('the account import reads one declared charset', () => {
  it('when a CSV declares two charsets, then it is refused naming both, not read in the first', async () => {
    const refused = await rejection(CSV, 'text/csv; charset=gbk; charset=utf-8');
    expect(refused.reason).toBe('media_type');
    expect(refused.message).toContain('gbk、utf-8');
  });
});
