// Calculator tool: exact decimal arithmetic on amounts in cents, so refunds add up.
const OPS = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => (a * b) / 100n,
  div: (a, b) => (a * 100n) / b,
};

function toCents(s) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(s).trim());
  if (!m) throw new Error(`not an amount: ${s}`);
  const cents = BigInt(m[2]) * 100n + BigInt((m[3] ?? '0').padEnd(2, '0'));
  return m[1] ? -cents : cents;
}

function fromCents(c) {
  const neg = c < 0n;
  const v = neg ? -c : c;
  return `${neg ? '-' : ''}${v / 100n}.${String(v % 100n).padStart(2, '0')}`;
}

export const tool = {
  name: 'calculate',
  description: 'Add, subtract, multiply or divide two money amounts exactly.',
  inputSchema: {
    type: 'object',
    properties: { op: { enum: Object.keys(OPS) }, a: { type: 'string' }, b: { type: 'string' } },
    required: ['op', 'a', 'b'],
  },
  run({ op, a, b }) {
    const fn = OPS[op];
    if (!fn) throw new Error(`unknown operation: ${op}`);
    if (op === 'div' && toCents(b) === 0n) throw new Error('division by zero');
    return { result: fromCents(fn(toCents(a), toCents(b))) };
  },
};
