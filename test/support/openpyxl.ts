import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { pipInstallOnce } from '../../local-stack/pip.js';
import { loadConfig } from '../../platform/config.js';

const run = promisify(execFile);
const OPENPYXL = 'openpyxl==3.1.5';
const ET_XMLFILE = 'et_xmlfile==2.0.0';

/**
 * Reads an XLSX file with Python's openpyxl — an independent reader, not the library that wrote it. openpyxl
 * is installed from PyPI into the project's cache folder on first use (pip, like the Temporal wheels).
 */
export async function readXlsx(file: string): Promise<{ sheet: string; rows: (string | number | null)[][] }> {
  const target = await pipInstallOnce({
    target: path.join(loadConfig({ NODE_ENV: 'test' }).cacheDir, 'python', 'openpyxl-3.1.5'),
    requirements: [OPENPYXL, ET_XMLFILE],
    marker: path.join('openpyxl', '__init__.py'),
  });
  const script = [
    'import json, sys, openpyxl',
    'wb = openpyxl.load_workbook(sys.argv[1], read_only=True)',
    'ws = wb.worksheets[0]',
    'rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]',
    'print(json.dumps({"sheet": ws.title, "rows": rows}, ensure_ascii=False))',
  ].join('\n');
  const { stdout } = await run('python3', ['-c', script, file], {
    env: { ...process.env, PYTHONPATH: target },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as { sheet: string; rows: (string | number | null)[][] };
}
