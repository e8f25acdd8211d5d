// Word count of the text on standard input (the triage skill's priority hint).
let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (text += d));
process.stdin.on('end', () => process.stdout.write(`${text.split(/\s+/).filter(Boolean).length}\n`));
