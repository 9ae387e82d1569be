"""Adversarial tests of tracker blocking, judged the way a browser reads the output.

`grammar` writes random documents that mix every family of issue 8 (URL spellings,
elements that fetch, tokenizer traps, giant constructs, inline snippets); `oracle` reads
the middleware's output with html5lib and ada-url (a spec-compliant HTML parser and the
WHATWG URL parser, both independent of our own scanner) and lists every live fetch of a
catalogued tracker host; `visitors` sends a document through the public middleware as a
visitor with no choice, after reject, or after accept-all, in random chunks.
"""
