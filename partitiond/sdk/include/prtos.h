/*
 * prtos.h - the libprtos API: every type, constant, structure, hypercall
 * wrapper and library function a partition program may use.
 */
#ifndef _PRTOS_H_
#define _PRTOS_H_

#include <prtoshypercalls.h>
#include <hypervisor.h>
#include <comm.h>
#include <hm.h>
#include <trace.h>
#include <status.h>

#endif /* _PRTOS_H_ */
