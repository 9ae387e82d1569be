/* The scanner's optional compiled core: the same tokenizer states as skim.py and
 * scanner.py, read byte by byte in C. Every decision stays in Python; this file only
 * finds where things start and end. scanner.py's pure-Python code is the reference:
 * tests/test_compiled_core.py and benchmarks/fuzz_core.py require identical results.
 *
 * skip(buf, pos, guarded, frameset_ok) -> (stop, start_names, end_names)
 *     skim.py's run: text and unremarkable tags from `pos`, exactly as skim._PATTERNS
 *     [guarded, frameset_ok] matches them, with the lower-cased names of the start tags
 *     and end tags stepped over, in order.
 * tag_end(buf, pos) -> int
 *     scanner._TAG_TAIL: the end of a tag (after ">") whose name ends at `pos`, or -1
 *     when the buffer ends first.
 * tag_span(buf, name_start) -> (name_end, end)
 *     scanner._TAG_NAME then _TAG_TAIL: where a tag's name ends, and tag_end from there.
 * read_attributes(buf, start, stop, cls) -> list
 *     tags.read_attributes: each attribute in buf[start:stop] as tags._ATTRIBUTE reads
 *     it, made as cls(name, value, name_start, name_end, unquoted_end, end) (cls is
 *     tags.Attribute, a NamedTuple: built as a tuple of that class).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef unsigned char uchar;

static int is_space(uchar c) { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }
/* ends a tag name: [\t\n\f\r />] */
static int ends_name(uchar c) { return is_space(c) || c == '/' || c == '>'; }
/* ends an attribute name: [\t\n\f\r />=] */
static int ends_attr(uchar c) { return ends_name(c) || c == '='; }
static int is_alpha(uchar c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static uchar lower(uchar c) { return (c >= 'A' && c <= 'Z') ? (uchar)(c + 32) : c; }

/* Whether s[0:n] equals the lower-case ASCII `word`, ignoring ASCII case. */
static int equals(const uchar *s, Py_ssize_t n, const char *word)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++) {
        if (word[i] == '\0' || lower(s[i]) != (uchar)word[i])
            return 0;
    }
    return word[n] == '\0';
}

static int starts_with(const uchar *s, Py_ssize_t n, const char *word)
{
    Py_ssize_t i;
    for (i = 0; word[i] != '\0'; i++) {
        if (i >= n || lower(s[i]) != (uchar)word[i])
            return 0;
    }
    return 1;
}

static int in_list(const uchar *s, Py_ssize_t n, const char *const *words)
{
    for (; *words != NULL; words++) {
        if (equals(s, n, *words))
            return 1;
    }
    return 0;
}

/* skim.py: _TOKENIZER_NAMES, and _FETCHING_NAMES (those plus link, base, meta) */
static const char *const TOKENIZER_NAMES[] = {
    "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
    "noscript", "plaintext", "svg", "math", "frameset", "body", "head", "html", NULL};
static const char *const FETCHING_NAMES_MORE[] = {"link", "base", "meta", NULL};
/* tree.FRAMESET_KILLERS: start tags after which a <frameset> is ignored */
static const char *const FRAMESET_KILLERS[] = {
    "applet", "area", "body", "br", "button", "dd", "dt", "embed", "hr", "iframe", "image",
    "img", "input", "keygen", "li", "listing", "marquee", "object", "pre", "select",
    "table", "template", "textarea", "wbr", "xmp", NULL};
/* skim.py: _FETCHING_ANYWHERE's literal names (on* and data-consent* are prefixes) */
static const char *const FETCHING_ANYWHERE[] = {
    "src", "srcset", "poster", "data", "background", "style", "srcdoc", "ping",
    "imagesrcset", "attributionsrc", "manifest", "to", "from", "by", "values", "fill",
    "stroke", "filter", "mask", "clip-path", "cursor", "marker-start", "marker-mid",
    "marker-end", NULL};

enum { GUARD_NONE = 0, GUARD_LINKS = 1, GUARD_ALL = 2 };

/* The attribute guard at `q` (skim._FETCHING or _FETCHING_ON_LINKS): the name run there
 * is one that fetches, followed by a byte (the regex's lookahead needs one). */
static int guarded_name(const uchar *buf, Py_ssize_t len, Py_ssize_t q, int guard)
{
    Py_ssize_t e = q, n;
    while (e < len && !ends_attr(buf[e]))
        e++;
    if (e >= len)
        return 0; /* no byte after it: the guard does not match (the tag fails anyway) */
    n = e - q;
    if (n == 0)
        return 0;
    if (starts_with(buf + q, n, "on") || starts_with(buf + q, n, "data-consent"))
        return 1;
    if (in_list(buf + q, n, FETCHING_ANYWHERE))
        return 1;
    return guard == GUARD_ALL && (equals(buf + q, n, "href") || equals(buf + q, n, "xlink:href"));
}

/* A tag's tail from `q` (just after its name) through ">", as skim._tail(guard) and
 * scanner._TAG_TAIL read it. Returns the position after ">", or -1 (the buffer ends
 * first, or an attribute the guard names comes first). */
static Py_ssize_t tail(const uchar *buf, Py_ssize_t len, Py_ssize_t q, int guard)
{
    while (q < len) {
        uchar c = buf[q];
        if (c == '>')
            return q + 1;
        if (is_space(c) || c == '/') {
            q++;
            continue;
        }
        if (guard != GUARD_NONE && guarded_name(buf, len, q, guard))
            return -1;
        q++; /* the first byte of a name may be "=" or a quote */
        while (q < len && !ends_attr(buf[q]))
            q++;
        {
            Py_ssize_t s = q;
            while (s < len && is_space(buf[s]))
                s++;
            if (s >= len || buf[s] != '=')
                continue; /* no value: the spaces are read as separators */
            s++;
            while (s < len && is_space(buf[s]))
                s++;
            if (s >= len)
                return -1;
            if (buf[s] == '"' || buf[s] == '\'') {
                const uchar *close = memchr(buf + s + 1, buf[s], (size_t)(len - s - 1));
                if (close == NULL)
                    return -1;
                q = (close - buf) + 1;
            } else if (buf[s] == '>') {
                q = s; /* an empty value */
            } else {
                while (s < len && !is_space(buf[s]) && buf[s] != '>')
                    s++;
                q = s;
            }
        }
    }
    return -1;
}

static Py_ssize_t name_end(const uchar *buf, Py_ssize_t len, Py_ssize_t q)
{
    while (q < len && !ends_name(buf[q]))
        q++;
    return q;
}

static int append_name(PyObject *list, const uchar *s, Py_ssize_t n)
{
    PyObject *name = PyBytes_FromStringAndSize(NULL, n);
    char *out;
    Py_ssize_t i;
    int failed;
    if (name == NULL)
        return -1;
    out = PyBytes_AS_STRING(name);
    for (i = 0; i < n; i++)
        out[i] = (char)lower(s[i]);
    failed = PyList_Append(list, name);
    Py_DECREF(name);
    return failed;
}

/* One start tag at `lt` ("<" and a letter): where it ends, or -1 when the run stops here. */
static Py_ssize_t start_tag(const uchar *buf, Py_ssize_t len, Py_ssize_t lt, int guarded,
                            int frameset_ok, Py_ssize_t *name_stop)
{
    Py_ssize_t ne = name_end(buf, len, lt + 1), n = ne - lt - 1;
    int link;
    *name_stop = ne;
    if (ne >= len)
        return -1;
    if (frameset_ok && in_list(buf + lt + 1, n, FRAMESET_KILLERS))
        return -1;
    link = equals(buf + lt + 1, n, "a") || equals(buf + lt + 1, n, "area");
    if (!link && (in_list(buf + lt + 1, n, TOKENIZER_NAMES) ||
                  (guarded && in_list(buf + lt + 1, n, FETCHING_NAMES_MORE))))
        return -1;
    if (!guarded)
        return tail(buf, len, ne, GUARD_NONE);
    return tail(buf, len, ne, link ? GUARD_LINKS : GUARD_ALL);
}

static PyObject *skip(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos, len, p;
    int guarded, frameset_ok;
    const uchar *buf;
    PyObject *starts = NULL, *ends = NULL, *result = NULL;

    (void)self;
    if (!PyArg_ParseTuple(args, "y*npp", &view, &pos, &guarded, &frameset_ok))
        return NULL;
    buf = (const uchar *)view.buf;
    len = view.len;
    starts = PyList_New(0);
    ends = PyList_New(0);
    if (starts == NULL || ends == NULL)
        goto done;
    p = pos < 0 ? 0 : pos;
    while (p < len) {
        const uchar *lt;
        uchar next;
        Py_ssize_t stop, ne;
        if (frameset_ok) { /* white space and NUL only: other text ends frameset-ok */
            while (p < len && (is_space(buf[p]) || buf[p] == 0))
                p++;
            if (p >= len || buf[p] != '<')
                break;
        }
        lt = memchr(buf + p, '<', (size_t)(len - p));
        if (lt == NULL) {
            p = len;
            break;
        }
        p = lt - buf;
        if (p + 1 >= len)
            break;
        next = buf[p + 1];
        if (is_alpha(next)) {
            stop = start_tag(buf, len, p, guarded, frameset_ok, &ne);
            if (stop < 0)
                break;
            if (append_name(starts, buf + p + 1, ne - p - 1) < 0)
                goto done;
            p = stop;
        } else if (next == '/') {
            if (p + 2 >= len || !is_alpha(buf[p + 2]))
                break;
            ne = name_end(buf, len, p + 2);
            if (ne >= len || equals(buf + p + 2, ne - p - 2, "body"))
                break;
            if (frameset_ok && equals(buf + p + 2, ne - p - 2, "br"))
                break; /* "</br>" is read as "<br>" */
            stop = tail(buf, len, ne, GUARD_NONE);
            if (stop < 0)
                break;
            if (append_name(ends, buf + p + 2, ne - p - 2) < 0)
                goto done;
            p = stop;
        } else if (next == '!' || next == '?') {
            break;
        } else if (frameset_ok) {
            break; /* "<" is text, not white space */
        } else {
            p++; /* "<" and a byte that starts nothing: text */
        }
    }
    result = Py_BuildValue("nOO", p, starts, ends);
done:
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *tag_end(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    Py_ssize_t pos, end;
    if (!PyArg_ParseTuple(args, "y*n", &view, &pos))
        return NULL;
    end = pos < 0 ? -1 : tail((const uchar *)view.buf, view.len, pos, GUARD_NONE);
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(end);
}

/* One attribute from `pos` (tags._ATTRIBUTE with endpos=stop); 0 when none starts there. */
static int one_attribute(const uchar *buf, Py_ssize_t stop, Py_ssize_t pos, Py_ssize_t *out)
{
    Py_ssize_t q = pos, ne, s, v;
    while (q < stop && (is_space(buf[q]) || buf[q] == '/'))
        q++;
    if (q >= stop || buf[q] == '>')
        return 0;
    ne = q + 1;
    while (ne < stop && !ends_attr(buf[ne]))
        ne++;
    out[0] = q;  /* name start */
    out[1] = ne; /* name end */
    out[2] = -1; /* value start (-1: none) */
    out[3] = -1; /* value end */
    out[4] = -1; /* unquoted value end */
    out[5] = ne; /* end of the match */
    s = ne;
    while (s < stop && is_space(buf[s]))
        s++;
    if (s >= stop || buf[s] != '=')
        return 1;
    v = s + 1;
    while (v < stop && is_space(buf[v]))
        v++;
    if (v >= stop)
        return 1; /* "=" and nothing: the optional value does not match */
    if (buf[v] == '"' || buf[v] == '\'') {
        const uchar *close = memchr(buf + v + 1, buf[v], (size_t)(stop - v - 1));
        if (close != NULL) {
            out[2] = v + 1;
            out[3] = close - buf;
            out[5] = out[3] + 1;
            return 1;
        }
    }
    if (buf[v] == '>') {
        out[2] = out[3] = out[5] = v; /* (?=>): an empty value */
        return 1;
    }
    s = v;
    while (s < stop && !is_space(buf[s]) && buf[s] != '>')
        s++;
    out[2] = v;
    out[3] = out[4] = out[5] = s;
    return 1;
}

static PyObject *make_attribute(PyTypeObject *cls, const uchar *buf, const Py_ssize_t *at)
{
    PyObject *name, *value, *fields, *args, *made;
    Py_ssize_t n = at[1] - at[0], i;
    name = PyBytes_FromStringAndSize(NULL, n);
    if (name == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        PyBytes_AS_STRING(name)[i] = (char)lower(buf[at[0] + i]);
    if (at[2] < 0)
        value = PyBytes_FromStringAndSize("", 0);
    else
        value = PyBytes_FromStringAndSize((const char *)buf + at[2], at[3] - at[2]);
    if (value == NULL) {
        Py_DECREF(name);
        return NULL;
    }
    fields = Py_BuildValue("(NNnnnn)", name, value, at[0], at[1], at[4], at[5]);
    if (fields == NULL)
        return NULL;
    args = PyTuple_Pack(1, fields);
    Py_DECREF(fields);
    if (args == NULL)
        return NULL;
    made = PyTuple_Type.tp_new(cls, args, NULL);
    Py_DECREF(args);
    return made;
}

static PyObject *read_attributes(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t start, stop, pos, at[6];
    PyTypeObject *cls;
    PyObject *list;
    const uchar *buf;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnO!", &view, &start, &stop, &PyType_Type, &cls))
        return NULL;
    if (!PyType_IsSubtype(cls, &PyTuple_Type)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "cls must be a tuple type");
        return NULL;
    }
    buf = (const uchar *)view.buf;
    if (stop > view.len)
        stop = view.len;
    list = PyList_New(0);
    pos = start < 0 ? 0 : start;
    while (list != NULL && pos < stop && one_attribute(buf, stop, pos, at)) {
        PyObject *made = make_attribute(cls, buf, at);
        if (made == NULL || PyList_Append(list, made) < 0) {
            Py_XDECREF(made);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(made);
        pos = at[5];
    }
    PyBuffer_Release(&view);
    return list;
}

static PyObject *tag_span(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos, ne, end;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*n", &view, &pos))
        return NULL;
    if (pos < 0)
        pos = 0;
    ne = name_end((const uchar *)view.buf, view.len, pos);
    end = tail((const uchar *)view.buf, view.len, ne, GUARD_NONE);
    PyBuffer_Release(&view);
    return Py_BuildValue("nn", ne, end);
}

static PyMethodDef methods[] = {
    {"tag_span", tag_span, METH_VARARGS, "(name end, tag end or -1) of the tag whose name starts at pos."},
    {"read_attributes", read_attributes, METH_VARARGS, "A tag's attributes, as tags.py reads them."},
    {"skip", skip, METH_VARARGS, "The skim's run from pos: (stop, start names, end names)."},
    {"tag_end", tag_end, METH_VARARGS, "Where a tag whose name ends at pos ends, or -1."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scanner",
                                    "The scanner's optional compiled core.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__scanner(void) { return PyModule_Create(&module); }
