/**
 * Which imports a model pickle may make. Unpickling calls whatever callables the pickle names,
 * so the only safe stance is an allow-list of the reconstruction helpers PyTorch, NumPy and the
 * standard library use to rebuild tensors, arrays and containers from data. Everything else is
 * a risk; a small deny-list only decides how loud (critical for known code-execution and
 * system-access primitives, high for the rest). A clean scan is still not proof of safety
 * (aibom reports every pickle model as a risk in itself): the list narrows what a loader
 * would call, it cannot make arbitrary Python safe.
 */

/**
 * - `allowed`: PyTorch's own `weights_only` allow-list (the floor), plus NumPy's array and
 *   scalar reconstruction;
 * - `safe`: a vetted constructor or plain function that builds a value from data and cannot
 *   run code, reach the system or load more code (SAFE below): listed, never a finding;
 * - `unknown`: anything else that is not known to be dangerous. It stays visible as a finding:
 *   `high` when the pickle calls it with arguments of its choosing (REDUCE / OBJ / INST: an
 *   unknown function can do anything), `medium` when it is only referenced or instantiated
 *   with `cls.__new__` (NEWOBJ: how protocol 2+ rebuilds plain objects, `__main__` classes included);
 * - `critical`: runs code, reaches the system (processes, files, network) or loads more code.
 */
export type ImportVerdict = 'allowed' | 'safe' | 'unknown' | 'critical';

/**
 * Exact `module.name` pairs allowed. The torch part mirrors the default allow-list of PyTorch's
 * own `weights_only=True` unpickler (torch/_weights_only_unpickler.py, `_get_allowed_globals`),
 * the loader PyTorch itself considers safe for state dicts:
 * - containers: collections.OrderedDict / Counter;
 * - tensor reconstruction: torch._utils._rebuild_* (they rebuild a tensor from a storage,
 *   offsets, sizes and strides; the storage comes from the checkpoint's own data files),
 *   torch._tensor._rebuild_from_type_v2, torch.nn.parameter.Parameter, torch.Size,
 *   torch.Tensor, torch.device, torch.serialization._get_layout;
 * - `_codecs.encode`: how protocol-2 pickles carry bytes (`encode(str, 'latin1')`); it only
 *   looks up codecs inside the standard `encodings` package;
 * - builtins.set / bytearray / complex, which build plain values.
 * NumPy arrays pickle as `numpy.core.multiarray._reconstruct` (`numpy._core` since NumPy 2)
 * + `numpy.ndarray` + `numpy.dtype` (protocol 5: `numeric._frombuffer`), and scalars as
 * `multiarray.scalar`: these build an array or scalar from a shape, a dtype and bytes. PyTorch leaves NumPy out of its default list
 * because it does not control NumPy's code; they are allowed here because no arbitrary
 * callable can be reached through them (an object-dtype array's elements are pickled inline
 * and scanned like everything else).
 * Also allowed: the remaining builtins that only build plain data (frozenset, slice, range,
 * list, dict, tuple, int, float, str, bytes, bool) — calling them on data builds data.
 */
const ALLOWED = new Set<string>([
  'collections.OrderedDict',
  'collections.Counter',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_device_tensor_from_numpy',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor',
  'torch._tensor._rebuild_from_type_v2',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'torch.Size',
  'torch.Tensor',
  'torch.device',
  'torch.storage.TypedStorage',
  'torch.storage.UntypedStorage',
  'torch.per_tensor_affine',
  'torch.per_tensor_symmetric',
  'torch.per_channel_affine',
  'torch.per_channel_symmetric',
  'torch.per_channel_affine_float_qparams',
  '_codecs.encode',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'builtins.complex',
  'builtins.slice',
  'builtins.range',
  'builtins.list',
  'builtins.dict',
  'builtins.tuple',
  'builtins.int',
  'builtins.float',
  'builtins.str',
  'builtins.bytes',
  'builtins.bool',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  'numpy.ndarray',
  'numpy.dtype',
]);

/**
 * Vetted callables above the floor: calling them (with any arguments a pickle can build) makes
 * a value; none of them runs code, touches the system or imports anything.
 */
const SAFE = new Set<string>([
  // builtins that compute a value from data
  'builtins.len',
  'builtins.abs',
  'builtins.round',
  'builtins.divmod',
  'builtins.pow',
  'builtins.ord',
  'builtins.chr',
  'builtins.hex',
  'builtins.oct',
  'builtins.bin',
  'builtins.NotImplemented',
  'builtins.Ellipsis',
  'builtins.object',
  // standard value types
  '__future__._Feature',
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'datetime.tzinfo',
  'decimal.Decimal',
  'fractions.Fraction',
  'uuid.UUID',
  'uuid.SafeUUID',
  'argparse.Namespace',
  'types.SimpleNamespace',
  'collections.deque',
  'collections.defaultdict',
  // copyreg._reconstructor(cls, base, state) calls base.__init__(obj, state): the scan counts
  // that as a call of `base` (pickle.ts), so the helper itself is safe.
  'copyreg._reconstructor',
  'copyreg.__newobj__',
  'copyreg.__newobj_ex__',
  'enum.Enum',
  're._compile',
  'pathlib.Path',
  'pathlib.PosixPath',
  'pathlib.WindowsPath',
  'pathlib.PurePath',
  'pathlib.PurePosixPath',
  'pathlib.PureWindowsPath',
  'ipaddress.IPv4Address',
  'ipaddress.IPv6Address',
  'zoneinfo.ZoneInfo',
  'pytz._p',
  'pytz._UTC',
  // partial(f, *args) only stores f: calling the result later is an unnamed call (high), and f is graded on its own.
  'functools.partial',
  'numpy.random._pickle.__randomstate_ctor',
  'numpy.random.__RandomState_ctor',
  'numpy.random._pickle.__generator_ctor',
  'numpy.random._pickle.__bit_generator_ctor',
  'numpy.random.mtrand.RandomState',
  'numpy.random._mt19937.MT19937',
  'numpy.random._pcg64.PCG64',
  'numpy.random._generator.Generator',
  'numpy.ma.core._mareconstruct',
  'numpy.core.multiarray._reconstruct',
  'numpy.matrix',
  'numpy.core.defmatrix.matrix',
  'numpy.matrixlib.defmatrix.matrix',
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
  'torch._utils._rebuild_tensor_v2',
  'torch.jit._pickle.build_intlist',
  'torch.jit._pickle.build_tensor_from_id',
  'torch.jit._pickle.build_doublelist',
  'torch.jit._pickle.build_boollist',
  'torch.jit._pickle.build_tensorlist',
  'torch.jit._pickle.restore_type_tag',
  'torch.nn.modules.module._IncompatibleKeys',
  'torch.torch_version.TorchVersion',
  // torch.load on bytes inside the pickle: those bytes are scanned as a file of their own
  // (pickle.ts records them; critical when they are not a constant).
  'torch.storage._load_from_bytes',
  // pandas' own reconstruction functions (DataFrame, Index, Timestamp pickles)
  'pandas.core.indexes.base._new_Index',
  'pandas._libs.internals._unpickle_block',
  'pandas.core.internals.blocks.new_block',
  'pandas._libs.tslibs.timestamps._unpickle_timestamp',
  'pandas._libs.tslibs.timedeltas._timedelta_unpickle',
  'pandas._libs.tslibs.nattype.__nat_unpickle',
  // dill looks builtin types up by name in its own table; calling what it returns is an unnamed call (high).
  'dill._dill._load_type',
]);

/**
 * Whole families of classes that only hold data and parameters: constructing one (or
 * restoring its state) cannot run code. Functions of these packages are not covered: the
 * name must be a class (CamelCase), and the modules that fetch data, read files or load code
 * (sklearn.datasets, sklearn.utils._testing, sklearn.externals, torch.hub ...) are excluded.
 */
const SAFE_CLASS_MODULES =
  /^(sklearn\.(?!datasets|externals|utils\._testing|_build_utils|experimental)[a-z_0-9.]+|scipy\.sparse\.[a-z_0-9.]+|numpy\.dtypes|numpy\.core\.records|numpy\.ma\.core|torch\.nn\.modules\.[a-z_0-9.]+|torch\.nn\.parameter|torch\.optim\.[a-z_0-9.]+|torch\.distributions\.[a-z_0-9.]+|transformers\.(configuration_utils|models\.[a-z_0-9]+\.(configuration|modeling)_[a-z_0-9]+|training_args|training_args_seq2seq|tokenization_utils_base|trainer_utils|debug_utils|utils\.generic|generation\.configuration_utils)|accelerate\.utils\.dataclasses|torchvision\.transforms\.[a-z_0-9.]+|pandas\.core\.[a-z_0-9.]+|pandas\._libs\.[a-z_0-9.]+)$/;
const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*$/;

/**
 * torch dtypes (torch.float32, torch.bfloat16, torch.uint8, torch.float8_e4m3fn, ...), the
 * legacy typed storages (torch.FloatStorage, torch.cuda.HalfStorage, ...) and tensor classes
 * (torch.FloatTensor, torch.cuda.LongTensor, ...) that PyTorch's allow-list enumerates at run
 * time. Anchored: only these exact shapes match.
 */
const TORCH_DTYPE =
  /^torch\.(float|double|half|bfloat16|complex32|complex64|complex128|cfloat|cdouble|chalf|uint(1|2|3|4|5|6|7|8|16|32|64)|int(1|2|3|4|5|6|7|8|16|32|64)|short|long|int|bool|quint8|qint8|qint32|quint4x2|quint2x4|float(16|32|64)|float8_e4m3fn|float8_e4m3fnuz|float8_e5m2|float8_e5m2fnuz|float8_e8m0fnu|float4_e2m1fn_x2|bits(1x8|2x4|4x2|8|16))$/;
const TORCH_STORAGE_OR_TENSOR = /^torch\.(cuda\.)?(Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte|Bool|ComplexFloat|ComplexDouble|QInt8|QUInt8|QInt32|QUInt4x2|QUInt2x4)(Storage|Tensor)$/;

/** Modules whose every callable gives code execution, process, file or network access. */
const CRITICAL_MODULES = new Set([
  'os',
  'posix',
  'nt',
  'posixpath',
  'ntpath',
  'subprocess',
  '_posixsubprocess',
  'sys',
  'pty',
  'socket',
  'shutil',
  'runpy',
  'importlib',
  'imp',
  'ctypes',
  'multiprocessing',
  'code',
  'codeop',
  'pdb',
  'bdb',
  'webbrowser',
  'marshal',
  'pickle',
  '_pickle',
  'cPickle',
  'dill',
  'cloudpickle',
  'joblib',
  'commands',
  'popen2',
  'platform',
  'asyncio',
  'requests',
  'urllib',
  'urllib2',
  'http',
  'httplib',
  'ftplib',
  'telnetlib',
  'smtplib',
  'tempfile',
  'glob',
  'io',
  '_io',
  'types',
  'operator',
  'functools',
  'timeit',
  'trace',
  'cProfile',
  'profile',
  'zipimport',
  'pkgutil',
  'ensurepip',
  'venv',
  'distutils',
  'setuptools',
  'pip',
]);

/** Builtins that run code or reach objects by name. */
const CRITICAL_BUILTINS = new Set([
  'eval',
  'exec',
  'execfile',
  'compile',
  '__import__',
  'open',
  'file',
  'getattr',
  'setattr',
  'delattr',
  'globals',
  'locals',
  'vars',
  'input',
  'raw_input',
  'breakpoint',
  'apply',
  'reload',
  'help',
  'memoryview',
  'type',
  'map',
  'filter',
  'sorted',
  'min',
  'max',
  'iter',
  'next',
  'hasattr',
  'callable',
  'issubclass',
  'isinstance',
  'super',
  'classmethod',
  'staticmethod',
  'property',
]);

const TORCH_C_MATH = /^torch\._C\._(nn|fft|linalg|special|VariableFunctions|VariableFunctionsClass|TensorBase)\.[A-Za-z_0-9]+$/;
/** torch entry points that load or run more code. */
const TORCH_CODE_LOADERS = /^torch\.(load|hub|jit|package|_C|ops|classes|compile|utils\.cpp_extension|storage\._load_from_bytes|serialization\.load)\b/;
const NUMPY_CODE_LOADERS = /^numpy\.(load|loadtxt|fromfile|testing|distutils|f2py|ctypeslib)\b/;

/** Python 2 module names protocol 0–2 pickles may use, as Python 3's unpickler maps them. */
const PY2_MODULES: Record<string, string> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  exceptions: 'builtins',
  cPickle: 'pickle',
  UserDict: 'collections',
  commands: 'subprocess',
  urllib2: 'urllib.request',
  httplib: 'http.client',
  SocketServer: 'socketserver',
  'numpy.core._multiarray_umath': 'numpy.core.multiarray',
  'numpy._core._multiarray_umath': 'numpy._core.multiarray',
};

export function normalizeModule(module: string): string {
  return Object.hasOwn(PY2_MODULES, module) ? PY2_MODULES[module]! : module;
}

/** One import as the rules see it: its module (Python 3 name), its name, and `module.name`. */
interface NamedImport {
  module: string;
  name: string;
  full: string;
}

/**
 * The policy table: the first rule that matches an import gives its verdict; none matching is
 * `unknown`. Order matters: the allow-list and the vetted list come before the deny-lists, and
 * torch._C's math namespaces before the rest of torch._C.
 */
const RULES: ReadonlyArray<{ verdict: ImportVerdict; rule: string; test: (i: NamedImport) => boolean }> = [
  {
    verdict: 'allowed',
    rule: "PyTorch's weights_only allow-list, NumPy reconstruction, plain-data builtins",
    test: ({ full }) => ALLOWED.has(full) || TORCH_DTYPE.test(full) || TORCH_STORAGE_OR_TENSOR.test(full),
  },
  { verdict: 'safe', rule: 'a vetted callable, or a class of a data-only package', test: ({ module, name, full }) => SAFE.has(full) || (SAFE_CLASS_MODULES.test(module) && CLASS_NAME.test(name)) },
  { verdict: 'critical', rule: 'a module that runs code or reaches the system', test: ({ module }) => CRITICAL_MODULES.has(module.split('.')[0]!) || CRITICAL_MODULES.has(module) },
  { verdict: 'critical', rule: 'a builtin that runs code or reaches objects by name', test: ({ module, name }) => module === 'builtins' && CRITICAL_BUILTINS.has(name.split('.')[0]!) },
  // torch._C's math namespaces (torch._C._nn.gelu ...) only compute; the rest of torch._C loads and runs code.
  { verdict: 'unknown', rule: "torch._C's math namespaces", test: ({ full }) => TORCH_C_MATH.test(full) },
  { verdict: 'critical', rule: 'a torch entry point that loads or runs more code', test: ({ full }) => TORCH_CODE_LOADERS.test(full) },
  { verdict: 'critical', rule: 'a numpy entry point that reads files or loads code', test: ({ full }) => NUMPY_CODE_LOADERS.test(full) },
  // A dotted name is an attribute chain (protocol 4): `torch.serialization` + `os.system` reaches os.
  {
    verdict: 'critical',
    rule: 'an attribute chain through a dangerous module, builtin or dunder',
    test: ({ name }) => name.includes('.') && name.split('.').some((p) => CRITICAL_MODULES.has(p) || CRITICAL_BUILTINS.has(p) || p.startsWith('__')),
  },
];

export function classifyImport(rawModule: string, name: string): ImportVerdict {
  const module = normalizeModule(rawModule);
  const imp: NamedImport = { module, name, full: `${module}.${name}` };
  for (const r of RULES) if (r.test(imp)) return r.verdict;
  return 'unknown';
}

/** Inside a TorchScript archive, `__torch__.*` names are the archive's own TorchScript classes, resolved by TorchScript, not imported from Python. */
export function classifyTorchScriptImport(module: string, verdict: ImportVerdict): ImportVerdict {
  if (verdict === 'critical') return verdict;
  if (module === '__torch__' || module.startsWith('__torch__.') || module === 'torch.jit._pickle') return 'safe';
  return verdict;
}

/** The finding severity of one import: undefined when it is no finding (allowed, safe). */
export function importSeverity(imp: { verdict: ImportVerdict; directCalls: number }): 'medium' | 'high' | 'critical' | undefined {
  if (imp.verdict === 'critical') return 'critical';
  if (imp.verdict === 'unknown') return imp.directCalls > 0 ? 'high' : 'medium';
  return undefined;
}
