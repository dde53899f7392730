/*
 * autoconf.h - BAIL's view of the build configuration.
 *
 * Upstream BAIL sources include <config.h>, which takes its values from the
 * generated autoconf.h of the hypervisor build. Here the values are fixed
 * (the x86 reference build) and shared with libprtos through
 * prtos_inc/config.h, whose definitions are all guarded, so the two headers
 * can be included in any order.
 */
#ifndef _BAIL_AUTOCONF_H_
#define _BAIL_AUTOCONF_H_

#include <prtos_inc/config.h>
#include <prtos_inc/arch/arch_types.h>

#endif /* _BAIL_AUTOCONF_H_ */
