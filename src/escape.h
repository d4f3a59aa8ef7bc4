/*
 * escape.h - makes text that came from a file, the command line or a client
 * safe to print on a terminal or send to the journal: control bytes (ESC
 * above all), DEL, C1 controls and bytes that are not UTF-8 become \xNN.
 * A backslash is left alone, so escaping twice changes nothing.
 */
#ifndef LF_ESCAPE_H
#define LF_ESCAPE_H

#include <stddef.h>

/*
 * Writes SRC, escaped, into DST (DSTLEN > 0 bytes, always NUL-terminated;
 * an escape is never cut in half). Returns the length written.
 */
size_t escape_str(char *dst, size_t dstlen, const char *src);
/* Escapes the string in BUF (BUFLEN bytes) in place, truncating to fit. */
void escape_inplace(char *buf, size_t buflen);

#endif
