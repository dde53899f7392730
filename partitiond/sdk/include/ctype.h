/*
 * ctype.h - ASCII character classes. static inline so that they cost
 * nothing and need no table in the partition image.
 */
#ifndef _BAIL_CTYPE_H_
#define _BAIL_CTYPE_H_

static __inline__ int isdigit(int c) {
    return c >= '0' && c <= '9';
}

static __inline__ int isspace(int c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static __inline__ int isxdigit(int c) {
    return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static __inline__ int isalnum(int c) {
    return isdigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#endif /* _BAIL_CTYPE_H_ */
