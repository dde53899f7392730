/*
 * assert.h - assertions are compiled in only when _DEBUG_ is defined, as in
 * upstream BAIL; a failed one halts the partition with file and line.
 */
#ifndef _BAIL_ASSERT_H_
#define _BAIL_ASSERT_H_

#include <bail.h>

#ifdef _DEBUG_
#define assert(e) \
    ((e) ? (void)0 : line_halt("%s:%d: failed assertion '%s'\n", __FILE__, __LINE__, #e))
#else
#define assert(e) ((void)0)
#endif

#define ASSERT(e) assert(e)

#endif /* _BAIL_ASSERT_H_ */
