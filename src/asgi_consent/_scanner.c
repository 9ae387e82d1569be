/* The scanner's optional compiled core: the same tokenizer states as skim.py and
 * scanner.py, read byte by byte in C. Every decision stays in Python; this file only
 * finds where things start and end. scanner.py's pure-Python code is the reference:
 * tests/test_compiled_core.py and benchmarks/fuzz_core.py require identical results.
 *
 * skip(buf, pos, guarded, frameset_ok) -> (stop, counts, lows)
 *     skim._skip(): text and unremarkable tags from `pos`, as skim._PATTERNS[guarded,
 *     frameset_ok] matches them, and the comment-like constructs between them (and with
 *     nothing held back, whole raw-text elements) as skim.step_over() reads them; with
 *     the HTML elements they leave open: {lower-cased name: start tags less end tags}
 *     (void elements left out, names that come to 0 too), and for each name whose
 *     balance fell below 0 on the way, the lowest it fell to.
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

/* What a tag name is, in one lookup: the lists above and below as bits. */
enum {
    F_TOKENIZER = 1, F_FETCHING_MORE = 2, F_KILLER = 4, F_VOID = 8, F_RAW = 16, F_SCRIPT = 32,
    F_LINK = 64, F_BASE = 128
};
static const char *const VOID_NAMES[] = {
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr", NULL};
/* tree.RAW_TEXT_ELEMENTS but plaintext: elements whose content ends only at their end tag */
static const char *const RAW_TEXT[] = {
    "script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "title", "textarea",
    NULL};
static const char *const LINKS[] = {"a", "area", NULL};
static const char *const BASE[] = {"base", NULL}; /* it moves our own relative URLs */
#define NAME_TABLE 96
#define NAME_MAX_LEN 9 /* no listed name is longer */
typedef struct {
    const char *name;
    Py_ssize_t len;
    int flags;
} Named;
static Named named[NAME_TABLE];
static int named_count;
static int first_of_letter[27]; /* named[] is sorted by first letter: where each starts */

static void add_names(const char *const *words, int flag)
{
    for (; *words != NULL; words++) {
        int i;
        for (i = 0; i < named_count && strcmp(named[i].name, *words) != 0; i++)
            ;
        if (i == named_count) {
            named[i].name = *words;
            named[i].len = (Py_ssize_t)strlen(*words);
            named_count++;
        }
        named[i].flags |= flag;
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const Named *)a)->name, ((const Named *)b)->name);
}

static void build_names(void)
{
    int i, letter;
    add_names(TOKENIZER_NAMES, F_TOKENIZER);
    add_names(FETCHING_NAMES_MORE, F_FETCHING_MORE);
    add_names(FRAMESET_KILLERS, F_KILLER);
    add_names(VOID_NAMES, F_VOID);
    add_names(RAW_TEXT, F_RAW);
    add_names(LINKS, F_LINK);
    add_names(BASE, F_BASE);
    for (i = 0; i < named_count; i++) {
        if (strcmp(named[i].name, "script") == 0)
            named[i].flags |= F_SCRIPT;
    }
    qsort(named, (size_t)named_count, sizeof(Named), by_name);
    for (letter = 0, i = 0; letter < 26; letter++) {
        first_of_letter[letter] = i;
        while (i < named_count && named[i].name[0] == 'a' + letter)
            i++;
    }
    first_of_letter[26] = named_count;
}

/* The flags of the tag name s[0:n] (ASCII case ignored); 0 for any other name. */
static int name_flags(const uchar *s, Py_ssize_t n)
{
    int letter, i;
    if (n == 0 || n > NAME_MAX_LEN || !is_alpha(s[0]))
        return 0;
    letter = lower(s[0]) - 'a';
    for (i = first_of_letter[letter]; i < first_of_letter[letter + 1]; i++) {
        if (named[i].len == n && equals(s, n, named[i].name))
            return named[i].flags;
    }
    return 0;
}

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

/* The names a run steps over, counted: a small open-addressing table keyed by the
 * lower-cased name (pointing into the buffer), turned into {name: count} dicts at the
 * end, so that a run of a thousand tags of a dozen names makes a dozen bytes objects. */
#define TABLE_SIZE 256 /* a power of two; a run's distinct names past 3/4 of it spill */
typedef struct {
    const uchar *name;
    Py_ssize_t len;
    Py_ssize_t count;
    Py_ssize_t low; /* the lowest the count fell to, if below 0 (else 0) */
    unsigned hash;
} Slot;
typedef struct {
    Slot slots[TABLE_SIZE];
    int order[TABLE_SIZE]; /* the slots in use, to clear them after a run */
    int used;
    PyObject *dict; /* where the table spills to, and is flushed at the end */
    PyObject *lows; /* the names whose count fell below 0: the lowest it fell to */
} Counts;
/* One for the whole module: skip() holds the GIL from start to end. */
static Counts run_counts;

static unsigned name_hash(const uchar *s, Py_ssize_t n)
{
    unsigned h = 2166136261u;
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        h = (h ^ lower(s[i])) * 16777619u;
    return h;
}

static int same_name(const uchar *a, const uchar *b, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++) {
        if (lower(a[i]) != lower(b[i]))
            return 0;
    }
    return 1;
}

/* dict[name] as a number (0 when absent), or -1 with an exception set */
static int dict_number(PyObject *dict, PyObject *name, Py_ssize_t *number)
{
    PyObject *old = PyDict_GetItemWithError(dict, name);
    *number = 0;
    if (old == NULL)
        return PyErr_Occurred() ? -1 : 0;
    *number = PyLong_AsSsize_t(old);
    return *number == -1 && PyErr_Occurred() ? -1 : 0;
}

static int set_number(PyObject *dict, PyObject *name, Py_ssize_t number)
{
    PyObject *value = PyLong_FromSsize_t(number);
    int failed;
    if (value == NULL)
        return -1;
    failed = PyDict_SetItem(dict, name, value);
    Py_DECREF(value);
    return failed;
}

/* counts[lower(s[0:n])] += count (a name whose count comes to 0 is removed), and
 * lows[that name] = the new count, when below 0 and below what lows holds for it; the
 * balance of a name spilled from the table, or a slot's whole run at once (`low`). */
static int add_to_dict(Counts *counts, const uchar *s, Py_ssize_t n, Py_ssize_t count,
                       Py_ssize_t low)
{
    PyObject *name = PyBytes_FromStringAndSize(NULL, n);
    Py_ssize_t i, before, lowest;
    int failed;
    if (name == NULL)
        return -1;
    for (i = 0; i < n; i++)
        PyBytes_AS_STRING(name)[i] = (char)lower(s[i]);
    failed = dict_number(counts->dict, name, &before) < 0 ||
             dict_number(counts->lows, name, &lowest) < 0;
    if (!failed && before + low < lowest)
        failed = set_number(counts->lows, name, before + low) < 0;
    if (!failed && before + count == 0)
        failed = before != 0 && PyDict_DelItem(counts->dict, name) < 0; /* 0 is never held */
    else if (!failed)
        failed = set_number(counts->dict, name, before + count) < 0;
    Py_DECREF(name);
    return failed ? -1 : 0;
}

/* counts[lower(s[0:n])] += delta */
static int count_name(Counts *counts, const uchar *s, Py_ssize_t n, Py_ssize_t delta)
{
    unsigned h = name_hash(s, n), i = h & (TABLE_SIZE - 1);
    for (;;) {
        Slot *slot = &counts->slots[i];
        if (slot->name == NULL) {
            if (counts->used >= TABLE_SIZE * 3 / 4)
                return add_to_dict(counts, s, n, delta, delta < 0 ? delta : 0);
            slot->name = s;
            slot->len = n;
            slot->count = delta;
            slot->low = delta < 0 ? delta : 0;
            slot->hash = h;
            counts->order[counts->used++] = (int)i;
            return 0;
        }
        if (slot->hash == h && slot->len == n && same_name(slot->name, s, n)) {
            slot->count += delta;
            if (slot->count < slot->low)
                slot->low = slot->count;
            return 0;
        }
        i = (i + 1) & (TABLE_SIZE - 1);
    }
}

/* The counted names into the dict (unless `failed`), and the table cleared. */
static int flush_counts(Counts *counts, int failed)
{
    int i;
    for (i = 0; i < counts->used; i++) {
        Slot *slot = &counts->slots[counts->order[i]];
        if (!failed && (slot->count != 0 || slot->low < 0) &&
            add_to_dict(counts, slot->name, slot->len, slot->count, slot->low) < 0)
            failed = 1;
        slot->name = NULL;
    }
    counts->used = 0;
    return failed ? -1 : 0;
}

/* One start tag whose name ends at `ne`: where it ends, or -1 when the run stops here. */
static Py_ssize_t start_tag(const uchar *buf, Py_ssize_t len, Py_ssize_t ne, int guarded,
                            int frameset_ok, int flags)
{
    int link = flags & F_LINK;
    if (frameset_ok && (flags & F_KILLER))
        return -1;
    if (!link && ((flags & F_TOKENIZER) || (flags & (guarded ? F_FETCHING_MORE : F_BASE))))
        return -1;
    if (!guarded)
        return tail(buf, len, ne, GUARD_NONE);
    return tail(buf, len, ne, link ? GUARD_LINKS : GUARD_ALL);
}

/* The end of a comment-like construct at `lt` that skim.step_over() steps over (a
 * comment, a bogus comment, a DOCTYPE), or -1: not one, or not complete in the buffer. */
static Py_ssize_t declaration_end(const uchar *buf, Py_ssize_t len, Py_ssize_t lt)
{
    const uchar *close;
    Py_ssize_t q;
    if (lt + 1 >= len)
        return -1;
    if (buf[lt + 1] == '?') {
        q = lt + 2;
    } else if (buf[lt + 1] == '/') { /* "</" and no letter */
        if (lt + 2 >= len || is_alpha(buf[lt + 2]))
            return -1;
        if (buf[lt + 2] == '>')
            return lt + 3;
        q = lt + 2;
    } else if (buf[lt + 1] == '!') {
        if (lt + 3 < len && buf[lt + 2] == '-' && buf[lt + 3] == '-') { /* a comment */
            if (lt + 4 < len && buf[lt + 4] == '>')
                return lt + 5; /* "<!-->" */
            if (lt + 5 >= len)
                return -1;
            if (buf[lt + 4] == '-' && buf[lt + 5] == '>')
                return lt + 6; /* "<!--->" */
            for (q = lt + 4; q + 2 < len; q++) { /* "--!?>" */
                if (buf[q] == '-' && buf[q + 1] == '-') {
                    if (buf[q + 2] == '>')
                        return q + 3;
                    if (buf[q + 2] == '!' && q + 3 < len && buf[q + 3] == '>')
                        return q + 4;
                }
            }
            return -1;
        }
        if (lt + 9 > len || buf[lt + 2] == '[')
            return -1; /* a CDATA section, or too short to tell */
        q = lt + 2;
    } else {
        return -1;
    }
    close = memchr(buf + q, '>', (size_t)(len - q));
    return close == NULL ? -1 : (close - buf) + 1;
}

/* "</name" and a byte that ends a name, at `q` (ignoring ASCII case). */
static int end_tag_of(const uchar *buf, Py_ssize_t len, Py_ssize_t q, const char *name)
{
    Py_ssize_t n = (Py_ssize_t)strlen(name);
    return q + 2 + n < len && buf[q + 1] == '/' && starts_with(buf + q + 2, n, name) &&
           ends_name(buf[q + 2 + n]);
}

/* skim.script_close(): where script data from `q` ends (the "<" of "</script"), through
 * its escaped and double-escaped states, or -1. */
static Py_ssize_t script_close(const uchar *buf, Py_ssize_t len, Py_ssize_t q)
{
    int state = 0; /* 0 script data, 1 escaped, 2 double escaped */
    while (q < len) {
        uchar c = buf[q];
        if (state == 0) {
            const uchar *lt = memchr(buf + q, '<', (size_t)(len - q));
            if (lt == NULL)
                return -1;
            q = lt - buf;
            if (q + 3 < len && buf[q + 1] == '!' && buf[q + 2] == '-' && buf[q + 3] == '-') {
                state = 1;
                q += 2; /* "<!-->" ends the escape at once */
            } else if (end_tag_of(buf, len, q, "script")) {
                return q;
            } else {
                q++;
            }
            continue;
        }
        if (c == '-' && q + 2 < len && buf[q + 1] == '-' && buf[q + 2] == '>') {
            state = 0;
            q += 3;
        } else if (c == '<' && end_tag_of(buf, len, q, "script")) {
            if (state != 2)
                return q;
            state = 1;
            q += 8; /* the byte after the name */
        } else if (c == '<' && state == 1 && q + 7 < len && starts_with(buf + q + 1, 6, "script") &&
                   ends_name(buf[q + 7])) {
            state = 2;
            q += 7;
        } else {
            q++;
        }
    }
    return -1;
}

/* skim._raw_element(): a whole raw-text element of HTML content at `lt` (its start
 * tag, content and end tag) when every part is in the buffer: where it ends, or -1. */
static Py_ssize_t raw_element_end(const uchar *buf, Py_ssize_t len, Py_ssize_t lt,
                                  Py_ssize_t name_stop, Py_ssize_t tag_stop, int flags)
{
    Py_ssize_t n = name_stop - lt - 1, close, q;
    char name[NAME_MAX_LEN + 1];
    if (!(flags & F_RAW))
        return -1;
    for (q = 0; q < n; q++)
        name[q] = (char)lower(buf[lt + 1 + q]);
    name[n] = '\0';
    if (flags & F_SCRIPT) {
        close = script_close(buf, len, tag_stop);
    } else {
        close = -1;
        for (q = tag_stop; q < len; q++) {
            const uchar *lt2 = memchr(buf + q, '<', (size_t)(len - q));
            if (lt2 == NULL)
                break;
            q = lt2 - buf;
            if (end_tag_of(buf, len, q, name)) {
                close = q;
                break;
            }
        }
    }
    if (close < 0)
        return -1;
    return tail(buf, len, close + 2 + n, GUARD_NONE);
}

static PyObject *skip(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos, len, p;
    int guarded, frameset_ok, raw_ok, failed = 0;
    const uchar *buf;
    PyObject *counts = NULL, *lows = NULL, *result = NULL;

    (void)self;
    if (!PyArg_ParseTuple(args, "y*npp", &view, &pos, &guarded, &frameset_ok))
        return NULL;
    buf = (const uchar *)view.buf;
    len = view.len;
    raw_ok = !guarded; /* whole raw-text elements: nothing is held back */
    counts = PyDict_New();
    lows = PyDict_New();
    if (counts == NULL || lows == NULL)
        goto done;
    run_counts.dict = counts;
    run_counts.lows = lows;
    p = pos < 0 ? 0 : pos;
    while (p < len && !failed) {
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
            int flags;
            ne = name_end(buf, len, p + 1);
            if (ne >= len)
                break;
            flags = name_flags(buf + p + 1, ne - p - 1);
            stop = start_tag(buf, len, ne, guarded, frameset_ok, flags);
            if (stop < 0) {
                Py_ssize_t whole;
                if (!raw_ok || !(flags & F_RAW) || (frameset_ok && (flags & F_KILLER)))
                    break;
                stop = tail(buf, len, ne, GUARD_NONE);
                whole = stop < 0 ? -1 : raw_element_end(buf, len, p, ne, stop, flags);
                if (whole < 0)
                    break;
                p = whole; /* opened and closed: its count does not change */
                continue;
            }
            if (!(flags & F_VOID))
                failed = count_name(&run_counts, buf + p + 1, ne - p - 1, 1) < 0;
            p = stop;
        } else if (next == '/' && p + 2 < len && is_alpha(buf[p + 2])) {
            ne = name_end(buf, len, p + 2);
            if (ne >= len || equals(buf + p + 2, ne - p - 2, "body"))
                break;
            if (frameset_ok && equals(buf + p + 2, ne - p - 2, "br"))
                break; /* "</br>" is read as "<br>" */
            stop = tail(buf, len, ne, GUARD_NONE);
            if (stop < 0)
                break;
            failed = count_name(&run_counts, buf + p + 2, ne - p - 2, -1) < 0;
            p = stop;
        } else if (next == '!' || next == '?' || next == '/') {
            stop = declaration_end(buf, len, p);
            if (stop < 0)
                break;
            p = stop;
        } else if (frameset_ok) {
            break; /* "<" is text, not white space */
        } else {
            p++; /* "<" and a byte that starts nothing: text */
        }
    }
    failed = flush_counts(&run_counts, failed) < 0 || failed;
    if (!failed)
        result = Py_BuildValue("nOO", p, counts, lows);
done:
    Py_XDECREF(counts);
    Py_XDECREF(lows);
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

/* rewrite._BASE_TAG.findall(buf): how many "<base" (any case) followed by one of
   "\t\n\f\r />" the bytes hold, in one memchr pass. */
static PyObject *count_base_tags(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    const uchar *buf = (const uchar *)view.buf;
    const uchar *p = buf, *end = buf + view.len;
    Py_ssize_t count = 0;
    while (end - p >= 6) {
        const uchar *lt = memchr(p, '<', (size_t)(end - p - 5));
        if (lt == NULL)
            break;
        if ((lt[1] | 0x20) == 'b' && (lt[2] | 0x20) == 'a' && (lt[3] | 0x20) == 's' &&
            (lt[4] | 0x20) == 'e' && ends_name(lt[5]))
            count++;
        p = lt + 1;
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(count);
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
    {"skip", skip, METH_VARARGS, "The skim's run from pos: (stop, {name: balance}, {name: lowest balance})."},
    {"tag_end", tag_end, METH_VARARGS, "Where a tag whose name ends at pos ends, or -1."},
    {"count_base_tags", count_base_tags, METH_VARARGS, "How many <base start tags the bytes hold."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scanner",
                                    "The scanner's optional compiled core.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__scanner(void)
{
    build_names();
    return PyModule_Create(&module);
}
