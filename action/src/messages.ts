/**
 * Error messages in the Action's words. The library's messages name CLI flags (`--key`,
 * `--signing-config` ...) and the files it read; in a workflow those are inputs, and the key is
 * a secret the Action wrote to a private file in the runner's temp folder: a message must name
 * the `key` input, never that file. Paths inside the workspace are shown relative to it.
 */
import { errorMessage } from '../../src/errors.js';

/** CLI flags and the inputs that carry the same setting. */
const FLAG_INPUTS: Record<string, string> = {
  '--key': 'key',
  '--fulcio-url': 'fulcio-url',
  '--rekor-url': 'rekor-url',
  '--tsa-url': 'tsa-url',
  '--signing-config': 'signing-config',
  '--trusted-root': 'trusted-root',
  '--policy': 'policy',
  '--spec-version': 'spec-version',
};

export interface MessageContext {
  workspace: string;
  /** Files and folders holding secrets (the key), and the input they came from. */
  secretPaths: Array<{ path: string; input: string }>;
  /** The runner's temp folder: nothing under it is shown. */
  runnerTemp?: string;
}

export function actionMessage(err: unknown, ctx: MessageContext): string {
  let msg = errorMessage(err);
  // Longest first, so a file inside a secret folder is named as the input, not as folder + name.
  for (const s of [...ctx.secretPaths].sort((a, b) => b.path.length - a.path.length)) {
    msg = msg.split(s.path).join(`the \`${s.input}\` input`);
  }
  if (ctx.runnerTemp) msg = msg.split(ctx.runnerTemp).join('(runner temp)');
  const ws = ctx.workspace.endsWith('/') ? ctx.workspace : `${ctx.workspace}/`;
  msg = msg.split(ws).join('');
  msg = msg.replace(/(?<![\w-])--[a-z][a-z-]*(?: (?:FILE|URL|PEM|TOKEN))?/g, (flag) => {
    const name = flag.split(' ')[0]!;
    const input = FLAG_INPUTS[name];
    return input ? `the \`${input}\` input` : flag;
  });
  return msg;
}
