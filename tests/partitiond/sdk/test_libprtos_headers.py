"""Tests of the libprtos headers and library (partition-api.md §1-§12, docs/abi.md).

Why these tests: the SDK promises that upstream partition sources compile unchanged and that
the binary interface is exactly the one docs/abi.md gives to the emulator. So we (a) compile a
program that touches every documented name, (b) check every structure size and offset of §11
and every constant of §2/§5/§10 at compile time, and (c) run the real compiled library under
Unicorn, recording each ``int $0x82`` to check hypercall numbers, register assignment, the
64-bit split, the lazy-batch flush rule (D-31) and the library-side argument checks.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from unicorn import UC_ARCH_X86, UC_HOOK_INTR, UC_MODE_32, Uc
from unicorn.x86_const import (
    UC_X86_REG_EAX,
    UC_X86_REG_EBP,
    UC_X86_REG_EBX,
    UC_X86_REG_ECX,
    UC_X86_REG_EDI,
    UC_X86_REG_EDX,
    UC_X86_REG_EIP,
    UC_X86_REG_ESI,
    UC_X86_REG_ESP,
)

from partitiond.toolchain import GUEST_TARGET, SDK_DIR, run_zig

INCLUDE = SDK_DIR / "include"
LIBPRTOS = SDK_DIR / "libprtos"
C_DIR = Path(__file__).resolve().parent / "c"

# -fno-sanitize=all: zig cc turns UBSan on by default and a partition has no sanitizer runtime.
CFLAGS = [
    *GUEST_TARGET,
    "-ffreestanding",
    "-fno-builtin",
    "-nostdlib",
    "-Wall",
    "-Werror",
    "-fno-sanitize=all",
    "-I",
    str(INCLUDE),
]


def compile_c(
    sources: list[Path], cwd: Path, std: str = "gnu89", opt: str = "-O2", extra: tuple[str, ...] = ()
) -> None:
    """Compile ``sources`` to objects in ``cwd``; fail the test with the compiler's message."""
    result = run_zig(["cc", *CFLAGS, f"-std={std}", opt, *extra, "-c", *map(str, sources)], cwd=cwd)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# (a) the whole API compiles


@pytest.mark.parametrize("std", ["gnu89", "gnu99"])
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_api_usage_compiles(tmp_path: Path, std: str, opt: str) -> None:
    """A program using every documented function, macro and structure builds with -Wall -Werror."""
    compile_c([C_DIR / "libprtos_api_usage.c"], tmp_path, std=std, opt=opt)


@pytest.mark.parametrize("first", ["comm.h", "hm.h", "trace.h", "status.h", "hypervisor.h", "prtoshypercalls.h"])
def test_api_usage_compiles_with_other_header_first(tmp_path: Path, first: str) -> None:
    """Include order does not matter: a sub-header first, then <prtos.h>."""
    compile_c([C_DIR / "libprtos_api_usage.c"], tmp_path, extra=(f"-DLIBPRTOS_FIRST_HEADER=<{first}>",))


# A redeclaration with the specification's prototype: any type mismatch is a compile error.
TOP_LEVEL_PROBES = {
    "prtos.h": "extern __stdcall prtos_s32_t prtos_hm_read(prtos_hm_log_t *log);",
    "prtoshypercalls.h": "extern __stdcall prtos_s32_t prtos_x86_load_cr0(prtos_word_t val);",
    "hypervisor.h": "extern __stdcall prtos_s32_t prtos_write_console(char *buf, prtos_s32_t len);",
    "comm.h": "extern __stdcall prtos_s32_t prtos_create_sampling_port(char *name, prtos_u32_t max_msg_size, "
    "prtos_u32_t direction, prtos_time_t valid_period);",
    "hm.h": "extern __stdcall prtos_s32_t prtos_hm_status(prtos_hm_status_t *st);",
    "trace.h": "extern __stdcall prtos_s32_t prtos_trace_open(prtos_id_t id);",
    "status.h": "extern __stdcall prtos_s32_t prtos_get_plan_status(prtos_plan_status_t *st);",
    "arch/prtoshypercalls.h": "extern __stdcall void prtos_x86_iret(void);",
    "arch/hypervisor.h": "extern __stdcall void init_arch_libprtos(void);",
}

INTERNAL_HEADERS = [
    "config.h",
    "arch/arch_types.h",
    "prtosef.h",
    "hypercalls.h",
    "arch/hypercalls.h",
    "guest.h",
    "arch/guest.h",
    "arch/irqs.h",
    "arch/processor.h",
    "arch/segments.h",
    "arch/paging.h",
    "prtosconf.h",
    "arch/prtosconf.h",
    "objdir.h",
    "objects/commports.h",
    "objects/hm.h",
    "objects/trace.h",
    "objects/status.h",
    "objects/mem.h",
    "linkage.h",
]


def test_every_header_is_self_contained(tmp_path: Path) -> None:
    """Each header alone (twice, for the guards) gives the prtos_* types and CONFIG_* values."""
    sources = []
    headers = [(h, TOP_LEVEL_PROBES[h]) for h in TOP_LEVEL_PROBES] + [(f"prtos_inc/{h}", "") for h in INTERNAL_HEADERS]
    for i, (header, probe) in enumerate(headers):
        src = tmp_path / f"probe_{i}.c"
        src.write_text(
            f"#include <{header}>\n#include <{header}>\n"
            f"prtos_u32_t probe_u32_{i}; prtos_time_t probe_time_{i}; prtos_obj_desc_t probe_desc_{i};\n"
            f"int probe_cfg_{i} = CONFIG_ID_STRING_LENGTH;\n"
            f"{probe}\n"
        )
        sources.append(src)
    compile_c(sources, tmp_path)


def test_headers_usable_from_assembly(tmp_path: Path) -> None:
    """The constant-only headers are usable from BAIL's assembly start-up code."""
    src = tmp_path / "probe.S"
    src.write_text(
        "#include <prtos.h>\n"
        "ENTRY(probe)\n"
        "    movl $" + "__GET_VCPUID_NR, %eax\n"
        "    int $PRTOS_HYPERCALL_VECTOR\n"
        "    movl $PRTOS_PCTRLTAB_ADDR, %ebx\n"
        "    ret\n"
    )
    compile_c([src], tmp_path, extra=("-D__ASSEMBLY__",))


# ---------------------------------------------------------------------------------------------
# (b) layouts and constants, checked by the compiler

# type -> (sizeof, packed, [(member designator, offset)])
# fmt: off
STRUCTS: dict[str, tuple[int, bool, list[tuple[str, int]]]] = {
    "partition_control_table_t": (
        336,
        False,
        [
            ("magic", 0), ("prtos_version", 4), ("prtos_abi_version", 8), ("prtos_api_version", 12),
            ("part_ctrl_table_size", 16), ("reset_counter", 20), ("reset_status", 24), ("cpu_khz", 28),
            ("id", 32), ("num_of_vcpus", 36), ("flags", 40), ("image_start", 44), ("hw_irqs", 48),
            ("num_of_physical_mem_areas", 52), ("num_of_comm_ports", 56), ("name", 60), ("iflags", 76),
            ("hw_irqs_pend", 80), ("hw_irqs_mask", 84), ("ext_irqs_pend", 88), ("ext_irqs_to_mask", 92),
            ("arch", 96), ("arch.gdtr", 96), ("arch.idtr", 102), ("arch.max_idt_vec", 108), ("arch.cr3", 120),
            ("arch.cr0", 128), ("cyclic_sched_info", 132), ("cyclic_sched_info.slot_duration", 140),
            ("trap_to_vector", 144), ("hw_irq_to_vector", 208), ("ext_irq_to_vector", 272),
            ("ext_irq_to_vector[31]", 334),
        ],
    ),
    "struct pct_arch": (
        36,
        False,
        [("gdtr", 0), ("idtr", 6), ("max_idt_vec", 12), ("tr", 16), ("cr4", 20), ("cr3", 24), ("cr2", 28), ("cr0", 32)],
    ),
    "struct x86_desc_reg": (6, True, [("limit", 0), ("linear_base", 2)]),
    "struct cyclic_sched_info": (12, False, [("num_of_slots", 0), ("id", 4), ("slot_duration", 8)]),
    "struct prtos_physical_mem_map": (
        32,
        False,
        [("name", 0), ("start_addr", 16), ("mapped_at", 20), ("size", 24), ("flags", 28)],
    ),
    "prtos_hm_log_t": (
        36,
        True,
        [
            ("signature", 0), ("checksum", 2), ("op_code_hi", 4), ("op_code_lo", 8), ("timestamp", 12),
            ("cpu_ctxt", 20), ("cpu_ctxt.pc", 20), ("cpu_ctxt.psr", 24), ("payload", 20), ("payload[3]", 32),
        ],
    ),
    "struct hm_cpu_ctxt": (8, False, [("pc", 0), ("psr", 4)]),
    "prtos_hm_status_t": (12, False, [("num_of_events", 0), ("max_events", 4), ("current_event", 8)]),
    "union hm_cmd": (12, False, [("status", 0)]),
    "prtos_trace_event_t": (
        36,
        True,
        [("signature", 0), ("checksum", 2), ("op_code_hi", 4), ("op_code_lo", 8), ("timestamp", 12), ("payload", 20)],
    ),
    "prtos_trace_status_t": (12, False, [("num_of_events", 0), ("max_events", 4), ("current_event", 8)]),
    "union trace_cmd": (12, False, [("status", 0)]),
    "prtos_sys_status_t": (
        60,
        False,
        [
            ("reset_counter", 0), ("num_of_hm_events", 4), ("num_of_irqs", 12), ("current_maf", 20),
            ("num_of_sampling_port_msgs_read", 28), ("num_of_sampling_port_msgs_written", 36),
            ("num_of_queuing_port_msgs_sent", 44), ("num_of_queuing_port_msgs_received", 52),
        ],
    ),
    "prtos_part_status_t": (
        64,
        False,
        [
            ("state", 0), ("op_mode", 4), ("num_of_virqs", 8), ("reset_counter", 16), ("reset_status", 20),
            ("exec_clock", 24), ("num_of_sampling_port_msgs_read", 32), ("num_of_sampling_port_msgs_written", 40),
            ("num_of_queuing_port_msgs_sent", 48), ("num_of_queuing_port_msgs_received", 56),
        ],
    ),
    "prtos_virtual_cpu_status_t": (8, False, [("state", 0), ("op_mode", 4)]),
    "prtos_plan_status_t": (20, False, [("switch_time", 0), ("next", 8), ("current", 12), ("prev", 16)]),
    "prtos_phys_page_status_t": (8, False, [("p_addr", 0)]),
    "union status_fmd": (
        64,
        False,
        [("status", 0), ("status.system", 0), ("status.partition", 0), ("status.plan", 0), ("op_mode", 0)],
    ),
    "prtos_sampling_port_status_t": (16, False, [("timestamp", 0), ("last_msg_size", 8), ("flags", 12)]),
    "prtos_sampling_port_info_t": (
        20,
        False,
        [("port_name", 0), ("valid_period", 4), ("max_msg_size", 12), ("direction", 16)],
    ),
    "prtos_queuing_port_status_t": (4, False, [("num_of_msgs", 0)]),
    "prtos_queuing_port_info_t": (
        24,
        False,
        [("port_name", 0), ("max_msg_size", 4), ("max_num_of_msgs", 8), ("direction", 12), ("valid_period", 16)],
    ),
    "struct create_s_cmd": (20, False, [("port_name", 0), ("max_msg_size", 4), ("direction", 8), ("valid_period", 12)]),
    "union sampling_port_cmd": (20, False, [("create", 0), ("status", 0), ("info", 0)]),
    "struct create_q_cmd": (
        16,
        False,
        [("port_name", 0), ("max_num_of_msgs", 4), ("max_msg_size", 8), ("direction", 12)],
    ),
    "union queuing_port_cmd": (24, False, [("create", 0), ("status", 0), ("info", 0)]),
    "struct cpy_area": (20, False, [("dst_id", 0), ("dst_addr", 4), ("src_id", 8), ("src_addr", 12), ("size", 16)]),
    "union mem_cmd": (20, False, [("cpy_area", 0), ("cpy_area.size", 16)]),
    "struct trap_handler": (8, False, [("cs", 0), ("ip", 4)]),
    "struct x86_desc": (8, True, [("high", 0), ("low", 4)]),
    "struct x86_gate": (8, True, [("high0", 0), ("low0", 4)]),
    "struct x86_tss": (
        104,
        True,
        [
            ("back_link", 0), ("sp0", 4), ("ss0", 8), ("sp1", 12), ("ss1", 16), ("sp2", 20), ("ss2", 24),
            ("cr3", 28), ("ip", 32), ("flags", 36), ("ax", 40), ("cx", 44), ("dx", 48), ("bx", 52), ("sp", 56),
            ("bp", 60), ("si", 64), ("di", 68), ("es", 72), ("cs", 76), ("ss", 80), ("ds", 84), ("fs", 88),
            ("gs", 92), ("ldt", 96), ("trace_trap", 100), ("io_git_map_offset", 102),
        ],
    ),
    "generic_desc_t": (8, False, [("high", 0), ("low", 4)]),
    "struct pef_custom_file": (8, True, [("start_addr", 0), ("size", 4)]),
    "struct prtos_image_hdr": (
        52,
        True,
        [
            ("start_signature", 0), ("compilation_prtos_abi_version", 4), ("compilation_prtos_api_version", 8),
            ("page_table", 12), ("page_table_size", 16), ("num_of_custom_files", 20), ("custom_file_table", 24),
            ("custom_file_table[1].size", 36), ("end_signature", 48),
        ],
    ),
    "struct lib_prtos_params": (48, False, [("part_ctrl_table", 0), ("part_mem_map", 16), ("comm_port_bitmap", 32)]),
}
# fmt: on


def _ident(text: str) -> str:
    """A C-identifier-safe rendering of a type/member name for assertion messages."""
    return "".join(c if c.isalnum() else "_" for c in text)


def test_struct_sizes_and_offsets(tmp_path: Path) -> None:
    """Every structure of §11 has the i386 size, alignment and member offsets."""
    lines = ["#include <prtos.h>"]
    for ctype, (size, packed, members) in STRUCTS.items():
        tag = _ident(ctype)
        lines.append(f'_Static_assert(sizeof({ctype}) == {size}, "sizeof {tag} != {size}");')
        align = 1 if packed else 4
        lines.append(f'_Static_assert(__alignof__({ctype}) == {align}, "alignof {tag} != {align}");')
        for member, offset in members:
            lines.append(
                f"_Static_assert(__builtin_offsetof({ctype}, {member}) == {offset}, "
                f'"offsetof {tag}.{_ident(member)} != {offset}");'
            )
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    compile_c([src], tmp_path)


def test_bit_field_layouts(tmp_path: Path) -> None:
    """Bit-field views (phys page status, descriptor and gate) land on the documented bits."""
    src = tmp_path / "bits.c"
    src.write_text(
        "#include <prtos.h>\n"
        "prtos_phys_page_status_t probe_page = {0x11223344, 1, 5, 0x12345};\n"
        "struct x86_desc probe_desc = {.seg_limit15_0 = 0xFFFF, .present = 1, .dpl = 1, .s = 1, .type = 0xA,\n"
        "                              .granularity = 1, .base31_24 = 0x12};\n"
        "struct x86_gate probe_gate = {.offset15_0 = 0x1234, .seg_selector = 0x139, .word_count = 0,\n"
        "                              .access = 0xAF, .offset31_16 = 0x5678};\n"
    )
    compile_c([src], tmp_path)
    data = _object_symbols(tmp_path / "bits.o")
    assert data["probe_page"] == struct.pack("<II", 0x11223344, 1 | 5 << 2 | 0x12345 << 5)
    _, low = struct.unpack("<II", data["probe_desc"])
    assert low & 0xFFFF == (1 << 15) | (1 << 13) | (1 << 12) | (0xA << 8)
    assert low >> 23 == (0x12 << 1) | 1  # granularity is bit 23, base31_24 the top byte
    assert data["probe_gate"] == bytes([0x34, 0x12, 0x39, 0x01, 0x00, 0xAF, 0x78, 0x56])


def _object_symbols(obj: Path) -> dict[str, bytes]:
    """Initialised bytes of each data symbol of a relocatable object."""
    out: dict[str, bytes] = {}
    with obj.open("rb") as fh:
        elf = ELFFile(fh)
        symtab = elf.get_section_by_name(".symtab")
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] != "STT_OBJECT" or not isinstance(sym["st_shndx"], int):
                continue
            data = elf.get_section(sym["st_shndx"]).data()
            out[sym.name] = data[sym["st_value"] : sym["st_value"] + sym["st_size"]]
    return out


M1 = "(-1)"
# fmt: off
# (name, value) for every constant of §2, §5 and §10; value is a C expression.
CONSTANTS: list[tuple[str, str]] = [
    # §2 build-time constants
    ("CONFIG_NO_CPUS", "4"), ("CONFIG_MAX_NO_VCPUS", "4"), ("CONFIG_NO_HWIRQS", "32"),
    ("CONFIG_PARTITION_NO_GDT_ENTRIES", "32"), ("CONFIG_ID_STRING_LENGTH", "16"), ("CONFIG_PRTOS_MAX_IPVI", "8"),
    ("CONFIG_PRTOS_OFFSET", "0xFC000000"), ("CONFIG_PRTOS_LOAD_ADDR", "0x1000000"),
    ("CONFIG_MAX_NO_CUSTOMFILES", "3"), ("CONFIG_MAX_NO_KTHREADS", "255"), ("CONFIG_STACK_KB", "8"),
    ("CONFIG_SIZE_PAGE_TABLE", "16"), ("PAGE_SIZE", "4096"),
    # §1.1 limits
    ("MAX_U8", "0xFF"), ("MAX_S8", "0x7F"), ("MAX_U16", "0xFFFF"), ("MAX_S16", "0x7FFF"),
    ("MAX_U32", "0xFFFFFFFFU"), ("MAX_S32", "0x7FFFFFFF"), ("MAX_U64", "0xFFFFFFFFFFFFFFFFULL"),
    ("MAX_S64", "0x7FFFFFFFFFFFFFFFLL"), ("MAX_PRTOSTIME", "0x7FFFFFFFFFFFFFFFLL"), ("PRTOS_LOG2_WORD_SZ", "5"),
    # §5 return codes
    ("PRTOS_OK", "0"), ("PRTOS_NO_ACTION", M1), ("PRTOS_UNKNOWN_HYPERCALL", "(-2)"), ("PRTOS_INVALID_PARAM", "(-3)"),
    ("PRTOS_PERM_ERROR", "(-4)"), ("PRTOS_INVALID_CONFIG", "(-5)"), ("PRTOS_INVALID_MODE", "(-6)"),
    ("PRTOS_OP_NOT_ALLOWED", "(-7)"), ("PRTOS_MULTICALL_ERROR", "(-8)"), ("HYPERCALL_NOT_IMPLEMENTED", "(~0)"),
    # §10.1 versions
    ("PRTOS_ABI_VERSION", "1"), ("PRTOS_ABI_SUBVERSION", "0"), ("PRTOS_ABI_REVISION", "0"),
    ("PRTOS_API_VERSION", "1"), ("PRTOS_API_SUBVERSION", "0"), ("PRTOS_API_REVISION", "0"),
    # §10.3 argument values
    ("PRTOS_HW_CLOCK", "0"), ("PRTOS_EXEC_CLOCK", "1"), ("PRTOS_OBJ_SEEK_CUR", "0"), ("PRTOS_OBJ_SEEK_SET", "1"),
    ("PRTOS_OBJ_SEEK_END", "2"), ("PRTOS_TRAP_TYPE", "0"), ("PRTOS_HWIRQ_TYPE", "1"), ("PRTOS_EXTIRQ_TYPE", "2"),
    ("PPAG_STD", "0"), ("PPAG_PTDL1", "1"), ("PPAG_PTDL2", "2"), ("PPAG_PTDL3", "3"), ("PRTOS_DCACHE", "1"),
    ("PRTOS_ICACHE", "2"), ("PRTOS_PARTITION_NAME", "0"), ("PRTOS_PLAN_NAME", "1"), ("PRTOS_COLD_RESET", "0"),
    ("PRTOS_WARM_RESET", "1"), ("PRTOS_RESET_MODE", "1"),
    # §10.4, §10.6 identifiers and virtual interrupts
    ("PRTOS_HYPERVISOR_ID", "0xFF"), ("UNCHECKED_ID", "0xFF"), ("KTHREAD_MAGIC", "0xA5A55A5A"),
    ("PRTOS_VT_HW_FIRST", "0"), ("PRTOS_VT_HW_LAST", "31"), ("PRTOS_VT_HW_MAX", "32"),
    ("PRTOS_VT_HW_INTERNAL_BUS_TRAP_NR", "1"), ("PRTOS_VT_HW_UART2_TRAP_NR", "2"), ("PRTOS_VT_HW_UART1_TRAP_NR", "3"),
    ("PRTOS_VT_HW_IO_IRQ0_TRAP_NR", "4"), ("PRTOS_VT_HW_IO_IRQ1_TRAP_NR", "5"), ("PRTOS_VT_HW_IO_IRQ2_TRAP_NR", "6"),
    ("PRTOS_VT_HW_IO_IRQ3_TRAP_NR", "7"), ("PRTOS_VT_HW_TIMER1_TRAP_NR", "8"), ("PRTOS_VT_HW_TIMER2_TRAP_NR", "9"),
    ("PRTOS_VT_HW_DSU_TRAP_NR", "11"), ("PRTOS_VT_HW_PCI_TRAP_NR", "14"),
    ("PRTOS_VT_EXT_FIRST", "0"), ("PRTOS_VT_EXT_LAST", "31"), ("PRTOS_VT_EXT_MAX", "32"),
    ("PRTOS_VT_EXT_HW_TIMER", "0"), ("PRTOS_VT_EXT_EXEC_TIMER", "1"), ("PRTOS_VT_EXT_WATCHDOG_TIMER", "2"),
    ("PRTOS_VT_EXT_SHUTDOWN", "3"), ("PRTOS_VT_EXT_SAMPLING_PORT", "4"), ("PRTOS_VT_EXT_QUEUING_PORT", "5"),
    ("PRTOS_VT_EXT_CYCLIC_SLOT_START", "8"), ("PRTOS_VT_EXT_MEM_PROTECT", "16"),
    *[(f"PRTOS_VT_EXT_IPVI{i}", str(24 + i)) for i in range(8)],
    ("PRTOS_MAX_IPVI", "8"), ("PRTOS_EXT_TRAPS", "0x10000"),
    # §10.7 traps, flags, selectors
    ("DIVIDE_ERROR", "0"), ("DEBUG_EXCEPTION", "1"), ("NMI_INTERRUPT", "2"), ("BREAKPOINT_EXCEPTION", "3"),
    ("OVERFLOW_EXCEPTION", "4"), ("BOUNDS_EXCEPTION", "5"), ("INVALID_OPCODE", "6"), ("DEVICE_NOT_AVAILABLE", "7"),
    ("DOUBLE_FAULT", "8"), ("COPROCESSOR_OVERRRUN", "9"), ("INVALID_TSS", "10"), ("SEGMENT_NOT_PRESENT", "11"),
    ("STACK_SEGMENT_FAULT", "12"), ("GENERAL_PROTECTION_FAULT", "13"), ("PAGE_FAULT", "14"),
    ("RESERVED2_EXCEPTION", "15"), ("FLOATING_POINT_ERROR", "16"), ("ALIGNMENT_CHECK", "17"), ("MACHINE_CHECK", "18"),
    ("SIMD_EXCEPTION", "19"), ("NO_TRAPS", "32"), ("ERRCODE_TAB", "0x27D00"), ("FIRST_EXTERNAL_VECTOR", "0x20"),
    ("_CPU_FLAG_TF", "0x100"), ("_CPU_FLAG_IF", "0x200"), ("_CPU_FLAG_IOPL", "0x3000"), ("_CR0_PE", "0x1"),
    ("_CR0_EM", "0x4"), ("_CR0_TS", "0x8"), ("_CR0_ET", "0x10"), ("_CR0_WP", "0x10000"), ("_CR0_PG", "0x80000000U"),
    ("_CR4_PSE", "0x10"), ("_CR4_PAE", "0x20"), ("_CR4_PGE", "0x80"),
    ("EARLY_CS_SEL", "0x08"), ("EARLY_DS_SEL", "0x10"), ("PRTOS_HYPERCALL_CALLGATE_SEL", "0x108"),
    ("PRTOS_USER_HYPERCALL_CALLGATE_SEL", "0x110"), ("PRTOS_IRET_CALLGATE_SEL", "0x118"), ("CS_SEL", "0x128"),
    ("DS_SEL", "0x130"), ("GUEST_CS_SEL", "0x139"), ("GUEST_DS_SEL", "0x141"), ("PERCPU_SEL", "0x148"),
    ("TSS_SEL", "0x150"), ("PCT_SEL", "0x159"), ("PRTOS_GDT_ENTRIES", "12"), ("EARLY_PRTOS_GDT_ENTRIES", "3"),
    ("X86DESC_LOW_P", "(1 << 15)"), ("X86DESC_LOW_DPL_MASK", "(3 << 13)"), ("X86DESC_LOW_DPL_POS", "13"),
    ("X86DESC_LOW_S", "(1 << 12)"), ("X86DESC_LOW_TYPE_MASK", "(0xF << 8)"), ("X86DESC_LOW_TYPE_POS", "8"),
    ("X86GATE_LOW0_P", "(1 << 15)"),
    # §10.8 HM
    ("PRTOS_HM_EV_FATAL_ERROR", "0"), ("PRTOS_HM_EV_SYSTEM_ERROR", "1"), ("PRTOS_HM_EV_PARTITION_ERROR", "2"),
    ("PRTOS_HM_EV_FP_ERROR", "3"), ("PRTOS_HM_EV_MEM_PROTECTION", "4"), ("PRTOS_HM_EV_UNEXPECTED_TRAP", "5"),
    ("PRTOS_HM_EV_X86_DIVIDE_ERROR", "6"), ("PRTOS_HM_EV_X86_DEBUG", "7"), ("PRTOS_HM_EV_X86_NMI_INTERRUPT", "8"),
    ("PRTOS_HM_EV_X86_BREAKPOINT", "9"), ("PRTOS_HM_EV_X86_OVERFLOW", "10"),
    ("PRTOS_HM_EV_X86_BOUND_RANGE_EXCEEDED", "11"), ("PRTOS_HM_EV_X86_INVALID_OPCODE", "12"),
    ("PRTOS_HM_EV_X86_DEVICE_NOT_AVAILABLE", "13"), ("PRTOS_HM_EV_X86_DOUBLE_FAULT", "14"),
    ("PRTOS_HM_EV_X86_COPROCESSOR_SEGMENT_OVERRUN", "15"), ("PRTOS_HM_EV_X86_INVALID_TSS", "16"),
    ("PRTOS_HM_EV_X86_SEGMENT_NOT_PRESENT", "17"), ("PRTOS_HM_EV_X86_STACK_FAULT", "18"),
    ("PRTOS_HM_EV_X86_GENERAL_PROTECTION", "19"), ("PRTOS_HM_EV_X86_PAGE_FAULT", "20"),
    ("PRTOS_HM_EV_X86_X87_FPU_ERROR", "22"), ("PRTOS_HM_EV_X86_ALIGNMENT_CHECK", "23"),
    ("PRTOS_HM_EV_X86_MACHINE_CHECK", "24"), ("PRTOS_HM_EV_X86_SIMD_FLOATING_POINT", "25"),
    ("PRTOS_HM_MAX_GENERIC_EVENTS", "6"), ("PRTOS_HM_MAX_EVENTS", "26"),
    ("PRTOS_HM_AC_IGNORE", "0"), ("PRTOS_HM_AC_SHUTDOWN", "1"), ("PRTOS_HM_AC_PARTITION_COLD_RESET", "2"),
    ("PRTOS_HM_AC_PARTITION_WARM_RESET", "3"), ("PRTOS_HM_AC_HYPERVISOR_COLD_RESET", "4"),
    ("PRTOS_HM_AC_HYPERVISOR_WARM_RESET", "5"), ("PRTOS_HM_AC_SUSPEND", "6"), ("PRTOS_HM_AC_PARTITION_HALT", "7"),
    ("PRTOS_HM_AC_HYPERVISOR_HALT", "8"), ("PRTOS_HM_AC_PROPAGATE", "9"),
    ("PRTOS_HM_AC_SWITCH_TO_MAINTENANCE", "10"), ("PRTOS_HM_MAX_ACTIONS", "11"), ("PRTOS_HM_LOG_DISABLED", "0"),
    ("PRTOS_HM_LOG_ENABLED", "1"), ("PRTOS_HM_GET_STATUS", "0"), ("PRTOS_HM_LOCK_EVENTS", "1"),
    ("PRTOS_HM_UNLOCK_EVENTS", "2"), ("PRTOS_HM_RESET_EVENTS", "3"), ("PRTOS_HMLOG_SIGNATURE", "0xFECF"),
    ("PRTOS_HMLOG_PAYLOAD_LENGTH", "4"), ("HMLOG_OPCODE_SEQ_MASK", "0xFFFFFFF0U"), ("HMLOG_OPCODE_SEQ_BIT", "4"),
    ("HMLOG_OPCODE_VALID_CPUCTXT_MASK", "0x2"), ("HMLOG_OPCODE_VALID_CPUCTXT_BIT", "1"),
    ("HMLOG_OPCODE_SYS_MASK", "0x1"), ("HMLOG_OPCODE_SYS_BIT", "0"), ("HMLOG_OPCODE_EVENT_MASK", "0xFFFF0000U"),
    ("HMLOG_OPCODE_EVENT_BIT", "16"), ("HMLOG_OPCODE_VCPUID_MASK", "0xFF00"), ("HMLOG_OPCODE_VCPUID_BIT", "8"),
    ("HMLOG_OPCODE_PARTID_MASK", "0xFF"), ("HMLOG_OPCODE_PARTID_BIT", "0"),
    ("PRTOS_RESET_STATUS_PARTITION_NORMAL_START", "0"), ("PRTOS_RESET_STATUS_PARTITION_RESTART", "1"),
    ("PRTOS_HM_RESET_STATUS_MODULE_RESTART", "2"), ("PRTOS_HM_RESET_STATUS_PARTITION_RESTART", "3"),
    ("PRTOS_HM_RESET_STATUS_USER_CODE_BIT", "16"), ("PRTOS_HM_RESET_STATUS_EVENT_MASK", "0xFFFF"),
    # §10.9 trace
    ("PRTOS_TRACE_NOTIFY", "0"), ("PRTOS_TRACE_DEBUG", "1"), ("PRTOS_TRACE_WARNING", "2"),
    ("PRTOS_TRACE_UNRECOVERABLE", "3"), ("PRTOSTRACE_SIGNATURE", "0xC33C"), ("TRACE_OPCODE_SEQ_MASK", "0xFFFFFFF0U"),
    ("TRACE_OPCODE_SEQ_BIT", "4"), ("TRACE_OPCODE_CRIT_MASK", "0xE"), ("TRACE_OPCODE_CRIT_BIT", "1"),
    ("TRACE_OPCODE_SYS_MASK", "0x1"), ("TRACE_OPCODE_SYS_BIT", "0"), ("TRACE_OPCODE_CODE_MASK", "0xFFFF0000U"),
    ("TRACE_OPCODE_CODE_BIT", "16"), ("TRACE_OPCODE_VCPUID_MASK", "0xFF00"), ("TRACE_OPCODE_VCPUID_BIT", "8"),
    ("TRACE_OPCODE_PARTID_MASK", "0xFF"), ("TRACE_OPCODE_PARTID_BIT", "0"), ("PRTOSTRACE_PAYLOAD_LENGTH", "4"),
    ("PRTOS_TRACE_GET_STATUS", "0"), ("PRTOS_TRACE_LOCK", "1"), ("PRTOS_TRACE_UNLOCK", "2"),
    ("PRTOS_TRACE_RESET", "3"), ("TRACE_BM_ALWAYS", "(~0)"), ("PRTOS_TRACE_SEEK_CUR", "0"),
    ("PRTOS_TRACE_SEEK_SET", "1"), ("PRTOS_TRACE_SEEK_END", "2"),
    # §10.10 status
    ("PRTOS_STATUS_IDLE", "0"), ("PRTOS_STATUS_READY", "1"), ("PRTOS_STATUS_SUSPENDED", "2"),
    ("PRTOS_STATUS_HALTED", "3"), ("PRTOS_OPMODE_IDLE", "0"), ("PRTOS_OPMODE_COLD_RESET", "1"),
    ("PRTOS_OPMODE_WARM_RESET", "2"), ("PRTOS_OPMODE_NORMAL", "3"), ("PRTOS_GET_SYSTEM_STATUS", "0"),
    ("PRTOS_GET_SCHED_PLAN_STATUS", "1"), ("PRTOS_SET_PARTITION_OPMODE", "2"), ("PRTOS_GET_PHYSPAGE_STATUS", "3"),
    ("PRTOS_GET_VCPU_STATUS", "4"),
    # §10.11 ports
    ("PRTOS_COMM_CREATE_PORT", "0"), ("PRTOS_COMM_GET_PORT_STATUS", "1"), ("PRTOS_COMM_GET_PORT_INFO", "2"),
    ("PRTOS_COMM_PORT_STATUS_B", "1"), ("PRTOS_COMM_PORT_STATUS_M", "0x3"), ("PRTOS_COMM_EMPTY_PORT", "0"),
    ("PRTOS_COMM_CONSUMED_MSG", "2"), ("PRTOS_COMM_NEW_MSG", "4"), ("PRTOS_COMM_MSG_VALID", "1"),
    ("PRTOS_INFINITE_TIME", "0xFFFFFFFFU"), ("PRTOS_SOURCE_PORT", "0x2"), ("PRTOS_DESTINATION_PORT", "0x1"),
    ("PRTOS_SAMPLING_PORT", "0"), ("PRTOS_QUEUING_PORT", "1"), ("PRTOS_SAMPLING_CHANNEL", "0"),
    ("PRTOS_QUEUING_CHANNEL", "1"), ("PRTOS_NULL_CHANNEL", M1),
    # §10.12 areas and partitions
    ("PRTOS_MEM_AREA_SHARED", "0x1"), ("PRTOS_MEM_AREA_UNMAPPED", "0x2"), ("PRTOS_MEM_AREA_READONLY", "0x4"),
    ("PRTOS_MEM_AREA_UNCACHEABLE", "0x8"), ("PRTOS_MEM_AREA_ROM", "0x10"), ("PRTOS_MEM_AREA_FLAG0", "0x20"),
    ("PRTOS_MEM_AREA_FLAG1", "0x40"), ("PRTOS_MEM_AREA_FLAG2", "0x80"), ("PRTOS_MEM_AREA_FLAG3", "0x100"),
    ("PRTOS_MEM_AREA_TAGGED", "0x200"), ("PRTOS_MEM_AREA_IOMMU", "0x400"), ("PRTOS_PART_SYSTEM", "0x100"),
    ("PRTOS_PART_FP", "0x200"), ("PRTOS_PART_HWVIRT", "0x400"), ("PRTOS_PART_BOOT", "0x1"),
    ("PRTOS_OBJ_MEM_CPY_AREA", "1"),
    # §10.13 PCT flags
    ("KTHREAD_FP_F", "0x2"), ("KTHREAD_DCACHE_ENABLED_F", "0x80"), ("KTHREAD_ICACHE_ENABLED_F", "0x100"),
    ("KTHREAD_NO_PARTITIONS_FIELD", "(0xFF << 16)"),
    # §10.14 images
    ("PRTOS_EXEC_PARTITION_MAGIC", "0x24584D69"), ("PRTOS_EXEC_HYP_MAGIC", "0x24584D68"),
    ("PEF_SIGNATURE", "0x24584546"), ("PRTOS_PACKAGE_SIGNATURE", "0x24584354"), ("PRTOSC_SIGNATURE", "0x24584D43"),
    ("PRTOS_PCTRLTAB_ADDR", "0xFBFC0000U"),
    # §8 object classes and descriptor masks
    ("OBJ_CLASS_NULL", "0"), ("OBJ_CLASS_CONSOLE", "1"), ("OBJ_CLASS_TRACE", "2"), ("OBJ_CLASS_SAMPLING_PORT", "3"),
    ("OBJ_CLASS_QUEUING_PORT", "4"), ("OBJ_CLASS_MEM", "5"), ("OBJ_CLASS_HM", "6"), ("OBJ_CLASS_STATUS", "7"),
    ("OBJ_NO_CLASSES", "8"), ("OBJDESC_VALIDITY_MASK", "(1U << 31)"), ("OBJDESC_CLASS_MASK", "0x7F"),
    ("OBJDESC_VCPUID_MASK", "0xF"), ("OBJDESC_NODEID_MASK", "0xF"), ("OBJDESC_PARTITIONID_MASK", "0x3FF"),
    ("OBJDESC_ID_MASK", "0x3FF"), ("OBJDESC_VALIDITY_BIT", "31"),
    # Project ABI vectors (docs/abi.md)
    ("PRTOS_HYPERCALL_VECTOR", "0x82"), ("PRTOS_IRET_VECTOR", "0x83"),
]

HYPERCALL_NAMES = [
    ("MULTICALL", "multicall"), ("HALT_PARTITION", "halt_partition"), ("SUSPEND_PARTITION", "suspend_partition"),
    ("RESUME_PARTITION", "resume_partition"), ("RESET_PARTITION", "reset_partition"),
    ("SHUTDOWN_PARTITION", "shutdown_partition"), ("HALT_SYSTEM", "halt_system"), ("RESET_SYSTEM", "reset_system"),
    ("IDLE_SELF", "idle_self"), ("GET_TIME", "get_time"), ("SET_TIMER", "set_timer"), ("READ_OBJECT", "read_object"),
    ("WRITE_OBJECT", "write_object"), ("SEEK_OBJECT", "seek_object"), ("CTRL_OBJECT", "ctrl_object"),
    ("CLEAR_IRQ_MASK", "clear_irqmask"), ("SET_IRQ_MASK", "set_irqmask"), ("FORCE_IRQS", "set_irqpend"),
    ("CLEAR_IRQS", "clear_irqpend"), ("ROUTE_IRQ", "route_irq"), ("UPDATE_PAGE32", "update_page32"),
    ("SET_PAGE_TYPE", "set_page_type"), ("INVLD_TLB", "invld_tlb"), ("RAISE_IPVI", "raise_ipvi"),
    ("RAISE_PARTITION_IPVI", "raise_partition_ipvi"), ("OVERRIDE_TRAP_HNDL", "override_trap_hndl"),
    ("SWITCH_SCHED_PLAN", "switch_sched_plan"), ("GET_GID_BY_NAME", "get_gid_by_name"), ("RESET_VCPU", "reset_vcpu"),
    ("HALT_VCPU", "halt_vcpu"), ("SUSPEND_VCPU", "suspend_vcpu"), ("RESUME_VCPU", "resume_vcpu"),
    ("GET_VCPUID", "get_vcpuid"),
]
X86_HYPERCALL_NAMES = [
    "x86_load_cr0", "x86_load_cr3", "x86_load_cr4", "x86_load_tss", "x86_load_gdt", "x86_load_idtr",
    "x86_update_ss_sp", "x86_update_gdt", "x86_update_idt", "x86_set_if", "x86_clear_if",
]
# fmt: on

# Expressions that must hold (macro behaviour and worked examples of the specification).
EXPRESSIONS = [
    "OBJDESC_BUILD(OBJ_CLASS_HM, 0xFF, 0) == 0x0603FC00",
    "OBJDESC_BUILD(OBJ_CLASS_STATUS, 0xFF, 0) == 0x0703FC00",
    "OBJDESC_BUILD(OBJ_CLASS_CONSOLE, 5, 0) == (0x01000000 | (5 << 10))",
    "OBJDESC_BUILD(0xFF, 0xFFFF, 0xFFFF) == 0x7F0FFFFF",
    "OBJDESC_BUILD_VCPUID(OBJ_CLASS_STATUS, 3, 2, 1) == (0x07000000 | (3 << 20) | (2 << 10) | 1)",
    "OBJDESC_BUILD_NODEID(OBJ_CLASS_STATUS, 3, 2, 1) == OBJDESC_BUILD_VCPUID(OBJ_CLASS_STATUS, 3, 2, 1)",
    "OBJDESC_GET_CLASS(0x0603FC00) == OBJ_CLASS_HM",
    "OBJDESC_GET_PARTITIONID(0x0603FC00) == 0xFF",
    "OBJDESC_GET_VCPUID(0x07300000) == 3",
    "OBJDESC_GET_NODEID(0x07300000) == 3",
    "OBJDESC_GET_ID(0x070003FF) == 0x3FF",
    "OBJDESC_SET_CLASS(0x0603FC00, OBJ_CLASS_STATUS) == 0x0703FC00",
    "OBJDESC_SET_PARTITIONID(0x0603FC00, 1) == 0x06000400",
    "OBJDESC_SET_VCPUID(0x07000000, 2) == 0x07200000",
    "OBJDESC_SET_NODEID(0x07000000, 2) == 0x07200000",
    "OBJDESC_SET_ID(0x07000000, 9) == 0x07000009",
    "OBJDESC_IS_VALID(0x0603FC00) == 1",
    "OBJDESC_IS_VALID(OBJDESC_SET_INVALID(0x0603FC00)) == 0",
    "OBJDESC_SET_VALID(OBJDESC_SET_INVALID(0x0603FC00)) == 0x0603FC00",
    "PRTOS_SET_VERSION(1, 0, 0) == 0x00010000",
    "PRTOS_SET_VERSION(0x101, 0x102, 0x103) == 0x00010203",
    "PRTOS_GET_VERSION(0x00010203) == 1",
    "PRTOS_GET_SUBVERSION(0x00010203) == 2",
    "PRTOS_GET_REVISION(0x00010203) == 3",
    "PTR2ADDR(0x1234) == 0x1234",
    "sizeof(prtos_u8_t) == 1 && sizeof(prtos_s8_t) == 1 && sizeof(prtos_u16_t) == 2 && sizeof(prtos_s16_t) == 2",
    "sizeof(prtos_u32_t) == 4 && sizeof(prtos_s32_t) == 4 && sizeof(prtos_u64_t) == 8 && sizeof(prtos_s64_t) == 8",
    "sizeof(prtos_time_t) == 8 && sizeof(hw_time_t) == 8 && sizeof(prtos_long_t) == 4",
    "sizeof(prtos_word_t) == 4 && sizeof(prtos_id_t) == 4 && sizeof(prtos_address_t) == 4",
    "sizeof(prtos_u_size_t) == 4 && sizeof(prtos_s_size_t) == 4 && sizeof(prtos_io_address_t) == 2",
    "sizeof(prtos_obj_desc_t) == 4",
    "(prtos_id_t)-1 > 0",
    "(prtos_s8_t)-1 < 0",
    "(prtos_time_t)-1 < 0",
    "PCT_GET_PARTITION_ID(&(struct { prtos_u32_t id; }){0x0305}) == 5",
]


def test_constants_and_macros(tmp_path: Path) -> None:
    """Every constant of §2, §5 and §10 exists as a macro with its exact value; macros behave."""
    lines = ["#include <prtos.h>"]
    named = [*CONSTANTS]
    for nr, (upper, lower) in enumerate(HYPERCALL_NAMES):
        named += [(f"__{upper}_NR", str(nr)), (f"{lower}_nr", str(nr))]
    named += [(f"{name}_nr", str(33 + i)) for i, name in enumerate(X86_HYPERCALL_NAMES)]
    named.append(("NR_HYPERCALLS", "44"))
    for name, value in named:
        lines += [f"#ifndef {name}", f'#error "{name} is not defined"', "#endif"]
        lines.append(f'_Static_assert(({name}) == ({value}), "{name} != {_ident(value)}");')
    for i, expr in enumerate(EXPRESSIONS):
        lines.append(f'_Static_assert({expr}, "expression {i}");')
    for absent in ("flush_cache_nr", "set_cache_state_nr"):  # D-26: not defined on x86
        lines += [f"#ifdef {absent}", f'#error "{absent} must not be defined on x86"', "#endif"]
    lines.append("const char probe_str[] = TO_STR(PRTOS_OK) PRNT_ADDR_FMT;")
    lines.append('_Static_assert(sizeof(probe_str) == 3, "TO_STR expands its argument first");')
    src = tmp_path / "constants.c"
    src.write_text("\n".join(lines) + "\n")
    compile_c([src], tmp_path)


# ---------------------------------------------------------------------------------------------
# (c) the compiled library under Unicorn

IMAGE_BASE = 0x100000
IMAGE_SIZE = 0x100000
STACK_BASE = 0x800000
STACK_TOP = STACK_BASE + 0x10000 - 0x100
RET_ADDR = 0x900000
SCRATCH = 0xA00000
PCT_BASE = 0xFBFC0000
PCT_SIZE = 336
PARTITION_ID = 3
NUM_AREAS = 2
PCT_BLOCK = PCT_SIZE + 32 * NUM_AREAS + 4  # two areas, up to 32 ports (D-46)
CALLEE_SAVED = {UC_X86_REG_EBX: 0xB0B0B0B0, UC_X86_REG_ESI: 0x5151_5151, UC_X86_REG_EDI: 0xD1D1D1D1}

LINKER_SCRIPT = f"""
ENTRY(init_libprtos)
SECTIONS {{
  . = {IMAGE_BASE:#x};
  .text : {{ *(.text .text.*) }}
  .rodata : {{ *(.rodata .rodata.*) }}
  .data : {{ *(.data .data.*) }}
  .bss : {{ *(.bss .bss.* COMMON) }}
}}
"""


@dataclass(frozen=True)
class Trap:
    """One ``int $0x82``: the number and the five argument registers."""

    nr: int
    args: tuple[int, int, int, int, int]


def _signed(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


def _u32(v: int) -> int:
    return v & 0xFFFFFFFF


class Guest:
    """The linked library loaded into a fresh Unicorn CPU; functions are called by symbol."""

    def __init__(self, elf_path: Path) -> None:
        self.uc = Uc(UC_ARCH_X86, UC_MODE_32)
        self.uc.mem_map(IMAGE_BASE, IMAGE_SIZE)
        self.uc.mem_map(STACK_BASE, 0x10000)
        self.uc.mem_map(RET_ADDR, 0x1000)
        self.uc.mem_write(RET_ADDR, b"\x90" * 16)
        self.uc.mem_map(SCRATCH, 0x10000)
        self.uc.mem_map(PCT_BASE, 0x10000)
        self.symbols: dict[str, int] = {}
        with elf_path.open("rb") as fh:
            elf = ELFFile(fh)
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_LOAD":
                    self.uc.mem_write(seg["p_vaddr"], seg.data())
            for sym in elf.get_section_by_name(".symtab").iter_symbols():
                if sym.name:
                    self.symbols[sym.name] = sym["st_value"]
        self.traps: list[Trap] = []
        self.irets: list[int] = []
        self.vcpu = 0
        self.replies: dict[int, Callable[[Trap], int] | int] = {}
        self.uc.hook_add(UC_HOOK_INTR, self._on_interrupt)

    def _on_interrupt(self, uc: Uc, intno: int, _user: object) -> None:
        if intno == 0x83:
            self.irets.append(uc.reg_read(UC_X86_REG_ESP))
            uc.emu_stop()
            return
        assert intno == 0x82, f"unexpected interrupt {intno:#x}"
        regs = (UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_ESI, UC_X86_REG_EDI)
        trap = Trap(uc.reg_read(UC_X86_REG_EAX), tuple(uc.reg_read(r) for r in regs))  # type: ignore[arg-type]
        self.traps.append(trap)
        if trap.nr in (42, 43):  # void calls keep EAX
            return
        reply = self.replies.get(trap.nr, 0)
        if trap.nr == 32 and 32 not in self.replies:
            reply = self.vcpu
        value = reply(trap) if callable(reply) else reply
        uc.reg_write(UC_X86_REG_EAX, _u32(value))

    def call(self, name: str, *args: int) -> int:
        """cdecl call of ``name`` with 32-bit stack words; returns EAX as a signed value."""
        sp = STACK_TOP
        for word in reversed([RET_ADDR, *args]):
            sp -= 4
            self.uc.mem_write(sp, struct.pack("<I", _u32(word)))
        self.uc.reg_write(UC_X86_REG_ESP, sp)
        self.uc.reg_write(UC_X86_REG_EBP, 0xEBEBEBEB)
        for reg, value in CALLEE_SAVED.items():
            self.uc.reg_write(reg, value)
        self.uc.emu_start(self.symbols[name], RET_ADDR, count=200_000)
        if self.uc.reg_read(UC_X86_REG_EIP) == RET_ADDR:
            for reg, value in CALLEE_SAVED.items():
                assert self.uc.reg_read(reg) == value, f"{name} clobbered a callee-saved register"
        return _signed(self.uc.reg_read(UC_X86_REG_EAX))

    def read_u32(self, addr: int, count: int = 1) -> tuple[int, ...]:
        return struct.unpack(f"<{count}I", self.uc.mem_read(addr, 4 * count))

    def write_pct(self, *, flags: int = 0, vcpus: int = 2) -> None:
        """A PCT array with ``vcpus`` blocks of PCT_BLOCK bytes for partition PARTITION_ID."""
        for e in range(vcpus):
            base = PCT_BASE + e * PCT_BLOCK
            header = struct.pack(
                "<11I",
                0xA5A55A5A,
                0x10000,
                0x10000,
                0x10000,
                PCT_BLOCK,
                0,
                0,
                1000000,
                (e << 8) | PARTITION_ID,
                vcpus,
                flags,
            )
            self.uc.mem_write(base, header)
            self.uc.mem_write(base + 52, struct.pack("<ii", NUM_AREAS, 2))

    def boot(self, *, flags: int = 0, vcpu: int = 0) -> None:
        """Run init_libprtos like BAIL's start-up does, then forget its traps."""
        self.write_pct(flags=flags)
        self.vcpu = vcpu
        self.call("init_libprtos", PCT_BASE)
        self.traps.clear()


def test_library_sources_have_unique_basenames() -> None:
    """A build driver may put every libprtos object in one directory: names must not collide."""
    stems = [src.stem for src in LIBPRTOS.rglob("*.c")]
    assert stems
    assert len(stems) == len(set(stems))


@pytest.fixture(scope="module", params=["-O0", "-O2"])
def library_elf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libprtos plus the harness, compiled at the given level and linked at IMAGE_BASE."""
    out = tmp_path_factory.mktemp("libprtos" + request.param.replace("-", "_"))
    sources = [*sorted(LIBPRTOS.rglob("*.c")), C_DIR / "libprtos_harness.c"]
    objects = []
    for src in sources:
        compile_c([src], out, opt=request.param)
        objects.append(out / (src.stem + ".o"))
    script = out / "link.ld"
    script.write_text(LINKER_SCRIPT)
    elf = out / "libprtos.elf"
    result = run_zig(["cc", *GUEST_TARGET, "-nostdlib", "-T", str(script), *map(str, objects), "-o", str(elf)])
    assert result.returncode == 0, result.stderr
    return elf


@pytest.fixture
def guest(library_elf: Path) -> Guest:
    g = Guest(library_elf)
    g.boot(flags=5 << 16)  # a system partition in a 5-partition system
    return g


A, B, C, D, E = 0x11, 0x2233, 0x44556677, 0x8899AABB, 0x0CDDEEFF

# wrapper, stack arguments, expected number, expected argument registers
WRAPPERS: list[tuple[str, tuple[int, ...], int, tuple[int, ...]]] = [
    ("prtos_halt_partition", (C,), 1, (C,)),
    ("prtos_suspend_partition", (C,), 2, (C,)),
    ("prtos_resume_partition", (C,), 3, (C,)),
    ("prtos_reset_partition", (C, D, E), 4, (C, D, E)),
    ("prtos_shutdown_partition", (C,), 5, (C,)),
    ("prtos_halt_system", (), 6, ()),
    ("prtos_reset_system", (C,), 7, (C,)),
    ("prtos_idle_self", (), 8, ()),
    ("prtos_get_time", (1, SCRATCH), 9, (1, SCRATCH)),
    ("prtos_read_object", (C, SCRATCH, D, SCRATCH + 64), 11, (C, SCRATCH, D, SCRATCH + 64)),
    ("prtos_write_object", (C, SCRATCH, D, 0), 12, (C, SCRATCH, D, 0)),
    ("prtos_seek_object", (C, D, E), 13, (C, D, E)),
    ("prtos_ctrl_object", (C, D, SCRATCH), 14, (C, D, SCRATCH)),
    ("prtos_clear_irqmask", (C, D), 15, (C, D)),
    ("prtos_set_irqmask", (C, D), 16, (C, D)),
    ("prtos_set_irqpend", (C, D), 17, (C, D)),
    ("prtos_clear_irqpend", (C, D), 18, (C, D)),
    ("prtos_route_irq", (C, D, 0xFFFF00E0), 19, (C, D, 0xE0)),  # vector is a u16
    ("prtos_update_page32", (C, D), 20, (C, D)),
    ("prtos_set_page_type", (C, D), 21, (C, D)),
    ("prtos_invld_tlb", (0xFFFFFFFF,), 22, (0xFFFFFFFF,)),
    ("prtos_raise_ipvi", (0x1234518,), 23, (0x18,)),  # n is a u8
    ("prtos_raise_partition_ipvi", (C, 0x119), 24, (C, 0x19)),
    ("prtos_override_trap_hndl", (C, SCRATCH), 25, (C, SCRATCH)),
    ("prtos_switch_sched_plan", (C, SCRATCH), 26, (C, SCRATCH)),
    ("prtos_get_gid_by_name", (SCRATCH, 1), 27, (SCRATCH, 1)),
    ("prtos_reset_vcpu", (A, B, C, D), 28, (A, B, C, D)),
    ("prtos_halt_vcpu", (C,), 29, (C,)),
    ("prtos_suspend_vcpu", (C,), 30, (C,)),
    ("prtos_resume_vcpu", (C,), 31, (C,)),
    ("prtos_get_vcpuid", (), 32, ()),
    ("prtos_multicall", (SCRATCH, SCRATCH + 12), 0, (SCRATCH, SCRATCH + 12)),
    ("prtos_x86_load_cr0", (C,), 33, (C,)),
    ("prtos_x86_load_cr3", (C,), 34, (C,)),
    ("prtos_x86_load_cr4", (C,), 35, (C,)),
    ("prtos_x86_load_tss", (SCRATCH,), 36, (SCRATCH,)),
    ("prtos_x86_load_gdt", (SCRATCH,), 37, (SCRATCH,)),
    ("prtos_x86_load_idtr", (SCRATCH,), 38, (SCRATCH,)),
    ("prtos_x86_update_ss_sp", (C, D, E), 39, (C, D, E)),
    ("prtos_x86_update_gdt", (C, SCRATCH), 40, (C, SCRATCH)),
    ("prtos_x86_update_idt", (C, SCRATCH), 41, (C, SCRATCH)),
    ("prtos_x86_set_if", (), 42, ()),
    ("prtos_x86_clear_if", (), 43, ()),
]


@pytest.mark.parametrize(("wrapper", "args", "nr", "regs"), WRAPPERS, ids=[w[0] for w in WRAPPERS])
def test_wrapper_traps_with_number_and_arguments(
    guest: Guest, wrapper: str, args: tuple[int, ...], nr: int, regs: tuple[int, ...]
) -> None:
    """Each wrapper makes exactly one ``int $0x82``: EAX = number, arguments in EBX..EDI, result from EAX."""
    guest.replies[nr] = -(nr + 100) if nr != 32 else 2
    result = guest.call(wrapper, *args)
    assert [t.nr for t in guest.traps] == [nr]
    assert guest.traps[0].args[: len(regs)] == regs
    if nr in (42, 43):
        assert guest.uc.reg_read(UC_X86_REG_EAX) == nr  # void call: EAX untouched by the kernel
    else:
        assert result == (-(nr + 100) if nr != 32 else 2)


def test_set_timer_splits_64_bit_arguments_low_word_first(guest: Guest) -> None:
    abs_time, interval = 0x1122334455667788, 0x0102030405060708
    words = (1, abs_time & 0xFFFFFFFF, abs_time >> 32, interval & 0xFFFFFFFF, interval >> 32)
    assert guest.call("prtos_set_timer", *words) == 0
    assert guest.traps == [Trap(10, (1, 0x55667788, 0x11223344, 0x05060708, 0x01020304))]


def test_get_time_passes_pointer_in_ecx(guest: Guest) -> None:
    def reply(trap: Trap) -> int:
        guest.uc.mem_write(trap.args[1], struct.pack("<q", 1_500_000))
        return 0

    guest.replies[9] = reply
    assert guest.call("prtos_get_time", 0, SCRATCH + 8) == 0
    assert guest.traps == [Trap(9, (0, SCRATCH + 8, *guest.traps[0].args[2:]))]
    assert struct.unpack("<q", guest.uc.mem_read(SCRATCH + 8, 8))[0] == 1_500_000


def test_virtual_iret_uses_int_0x83_with_the_frame_at_esp(guest: Guest) -> None:
    """``call prtos_x86_iret`` drops the return address so ESP points at EIP, CS, EFLAGS."""
    guest.call("prtos_x86_iret", 0x1234, 0x139, 0x202)
    frame = STACK_TOP - 12
    assert guest.irets == [frame]
    assert guest.read_u32(frame, 3) == (0x1234, 0x139, 0x202)
    assert guest.traps == []


def test_init_libprtos_locates_per_vcpu_blocks(library_elf: Path) -> None:
    """D-46: vCPU e's PCT is base + e * part_ctrl_table_size, then the area table and port bitmap."""
    g = Guest(library_elf)
    g.write_pct(flags=0)
    params = g.symbols["lib_prtos_params"]
    for vcpu in (0, 1):
        g.vcpu = vcpu
        g.call("init_libprtos", PCT_BASE)
        block = PCT_BASE + vcpu * PCT_BLOCK
        assert g.read_u32(params + 4 * vcpu) == (block,)
        assert g.read_u32(params + 16 + 4 * vcpu) == (block + PCT_SIZE,)
        assert g.read_u32(params + 32 + 4 * vcpu) == (block + PCT_SIZE + 32 * NUM_AREAS,)
    assert g.call("harness_partition_self") == PARTITION_ID
    assert g.call("harness_number_vcpus") == 2
    g.vcpu = 1
    assert g.call("harness_vcpu_self") == 1


def test_console_write_uses_own_console_descriptor(guest: Guest) -> None:
    guest.replies[12] = 5
    assert guest.call("prtos_write_console", SCRATCH, 5) == 5
    assert guest.traps == [Trap(12, (0x01000000 | PARTITION_ID << 10, SCRATCH, 5, 0, guest.traps[0].args[4]))]


def test_lazy_calls_are_flushed_by_the_next_wrapper(guest: Guest) -> None:
    guest.call("prtos_lazy_x86_load_cr0", 0x80000011)
    guest.call("prtos_lazy_x86_update_ss_sp", 0x141, 0x2000, 1)
    assert [t.nr for t in guest.traps] == [32, 32]  # only the vCPU lookups
    guest.traps.clear()
    records: list[tuple[int, ...]] = []

    def multicall(trap: Trap) -> int:
        start, end = trap.args[:2]
        records.append(guest.read_u32(start, (end - start) // 4))
        return 0

    guest.replies[0] = multicall
    assert guest.call("prtos_idle_self") == 0
    assert [t.nr for t in guest.traps] == [32, 0, 8]
    assert records == [(33, 1, 0x80000011, 39, 3, 0x141, 0x2000, 1)]
    guest.traps.clear()
    guest.call("prtos_idle_self")
    assert [t.nr for t in guest.traps] == [8]  # the batch was emptied


def test_flush_error_is_returned_without_the_call(guest: Guest) -> None:
    """D-31: a failed flush is returned and the wrapper makes no hypercall of its own."""
    guest.call("prtos_lazy_invld_tlb", 0)
    guest.traps.clear()
    guest.replies[0] = -8
    assert guest.call("prtos_halt_partition", 1) == -8
    assert [t.nr for t in guest.traps] == [32, 0]
    guest.traps.clear()
    guest.call("prtos_halt_partition", 1)
    assert [t.nr for t in guest.traps] == [1]


@pytest.mark.parametrize(
    ("wrapper", "args", "nr"),
    [
        ("prtos_set_timer", (0, 0, 0, 0, 0), 10),
        ("prtos_get_vcpuid", (), 32),
        ("prtos_multicall", (SCRATCH, SCRATCH), 0),
    ],
)
def test_calls_that_never_flush(guest: Guest, wrapper: str, args: tuple[int, ...], nr: int) -> None:
    guest.call("prtos_lazy_x86_load_cr3", 0)
    guest.traps.clear()
    guest.call(wrapper, *args)
    assert [t.nr for t in guest.traps] == [nr]


def test_void_calls_flush_then_trap(guest: Guest) -> None:
    guest.call("prtos_lazy_x86_load_cr4", 0)
    guest.traps.clear()
    guest.replies[0] = -8
    guest.call("prtos_x86_set_if")
    assert [t.nr for t in guest.traps] == [32, 0, 42]


def test_hm_calls_need_a_system_partition(library_elf: Path) -> None:
    g = Guest(library_elf)
    g.boot(flags=0x180)  # cache flags only: not a system partition (D-43)
    for fn, args in (("prtos_hm_read", (SCRATCH,)), ("prtos_hm_seek", (0, 1)), ("prtos_hm_status", (SCRATCH,))):
        assert g.call(fn, *args) == -4
    assert g.call("prtos_trace_open", PARTITION_ID + 1) == -4
    assert g.call("prtos_trace_open", PARTITION_ID) == 0x02000000 | PARTITION_ID << 10
    assert g.traps == []


def test_hm_read_counts_records(guest: Guest) -> None:
    assert guest.call("prtos_hm_read", 0) == -3
    assert guest.traps == []
    guest.replies[11] = 36
    assert guest.call("prtos_hm_read", SCRATCH) == 1
    assert guest.traps[0].args[:4] == (0x0603FC00, SCRATCH, 36, 0)
    guest.replies[11] = 0
    assert guest.call("prtos_hm_read", SCRATCH) == 0
    guest.replies[13] = 0
    assert guest.call("prtos_hm_seek", 0xFFFFFFFF, 2) == 0
    assert guest.traps[-1] == Trap(13, (0x0603FC00, 0xFFFFFFFF, 2, *guest.traps[-1].args[3:]))


def test_trace_calls(guest: Guest) -> None:
    assert guest.call("prtos_trace_open", 5) == -3  # N = 5
    assert guest.call("prtos_trace_open", 0xFF) == 0x0203FC00
    assert guest.call("prtos_trace_read", 0x0603FC00, SCRATCH) == -3  # not a trace descriptor
    assert guest.traps == []
    bitmasks: list[int] = []

    def write(trap: Trap) -> int:
        bitmasks.append(guest.read_u32(trap.args[3])[0])
        return 0

    guest.replies[12] = write
    assert guest.call("prtos_trace_event", 0x40, SCRATCH) == -5  # filtered out
    assert bitmasks == [0x40]
    assert guest.traps[-1].args[:3] == (0x02000000 | PARTITION_ID << 10, SCRATCH, 36)
    guest.replies[12] = 36
    assert guest.call("prtos_trace_event", 0x40, SCRATCH) == 0
    guest.replies[12] = -4
    assert guest.call("prtos_trace_event", 0x40, SCRATCH) == -4
    guest.replies[11] = 36
    assert guest.call("prtos_trace_read", 0x0203FC00, SCRATCH) == 1
    guest.replies[14] = 0
    assert guest.call("prtos_trace_status", 0x0203FC00, SCRATCH) == 0
    assert guest.traps[-1].args[:3] == (0x0203FC00, 0, SCRATCH)


def test_port_calls(guest: Guest) -> None:
    commands: list[tuple[int, ...]] = []

    def ctrl(trap: Trap) -> int:
        commands.append(guest.read_u32(trap.args[2], 5))
        return 7

    guest.replies[14] = ctrl
    assert guest.call("prtos_create_sampling_port", SCRATCH, 64, 2, 0x89ABCDEF, 0x1) == 7
    desc = 0x03000000 | PARTITION_ID << 10
    assert guest.traps[-1].args[:2] == (desc, 0)
    assert commands[-1] == (SCRATCH, 64, 2, 0x89ABCDEF, 0x1)
    assert guest.call("prtos_create_queuing_port", SCRATCH, 4, 32, 1) == 7
    assert guest.traps[-1].args[:2] == (0x04000000 | PARTITION_ID << 10, 0)
    assert commands[-1][:4] == (SCRATCH, 4, 32, 1)
    # D-44/D-45: sampling class and the given port id; PRTOS_OK on success, NULL rejected.
    assert guest.call("prtos_get_sampling_port_status", 9, SCRATCH + 0x100) == 0
    assert guest.traps[-1].args[:3] == (desc | 9, 1, SCRATCH + 0x100)
    guest.traps.clear()
    assert guest.call("prtos_get_sampling_port_status", 9, 0) == -3
    assert guest.call("prtos_get_queuing_port_info", SCRATCH, 0) == -3
    assert guest.traps == []
    assert guest.call("prtos_get_queuing_port_info", SCRATCH, SCRATCH + 0x100) == 0
    assert guest.read_u32(SCRATCH + 0x100) == (SCRATCH,)  # port_name filled in by the library
    guest.replies[14] = -3
    assert guest.call("prtos_get_queuing_port_status", 2, SCRATCH) == -3
    guest.replies[11] = 12
    assert guest.call("prtos_read_sampling_message", 4, SCRATCH, 16, 0) == 12
    assert guest.traps[-1].args[:4] == (desc | 4, SCRATCH, 16, 0)
    guest.replies[11] = 8
    assert guest.call("prtos_receive_queuing_message", 6, SCRATCH, 16) == 8
    assert guest.traps[-1].args[:4] == (0x04000000 | PARTITION_ID << 10 | 6, SCRATCH, 16, 0)


def test_status_and_memory_calls(guest: Guest) -> None:
    assert guest.call("prtos_get_vcpu_status", 2, SCRATCH) == -3  # 2 vCPUs (D-23)
    assert guest.traps == []
    guest.call("prtos_get_vcpu_status", 1, SCRATCH)
    assert guest.traps[-1].args[:3] == (0x07000000 | 1 << 20 | PARTITION_ID << 10, 4, SCRATCH)
    guest.call("prtos_get_system_status", SCRATCH)
    assert guest.traps[-1].args[:3] == (0x0703FC00, 0, SCRATCH)
    guest.call("prtos_get_plan_status", SCRATCH)
    assert guest.traps[-1].args[:2] == (0x07000000 | PARTITION_ID << 10, 1)
    guest.call("prtos_get_physpage_status", 0x6000000, SCRATCH)
    assert guest.read_u32(SCRATCH) == (0x6000000,)
    assert guest.traps[-1].args[:3] == (0x07000000 | PARTITION_ID << 10, 3, SCRATCH)
    opmodes: list[int] = []
    guest.replies[14] = lambda t: opmodes.append(guest.read_u32(t.args[2])[0]) or 0
    guest.call("prtos_set_partition_opmode", 3)
    assert opmodes == [3]
    copies: list[tuple[int, ...]] = []
    guest.replies[14] = lambda t: copies.append(guest.read_u32(t.args[2], 5)) or 16
    assert guest.call("prtos_memory_copy", 1, 0x6000000, 0xFF, 0x6100000, 16) == 16
    assert guest.traps[-1].args[:2] == (0x05000000, 1)
    assert copies == [(1, 0x6000000, 0xFF, 0x6100000, 16)]


def test_library_only_calls(guest: Guest) -> None:
    """D-26: cache and watchpoint calls exist and make no hypercall."""
    assert guest.call("prtos_flush_cache", 3) == 0
    assert guest.call("prtos_flush_cache", 4) == -3
    assert guest.call("prtos_set_cache_state", 1) == 0
    assert guest.call("prtos_set_cache_state", 8) == -3
    assert guest.call("prtos_x86_set_watchpoint", 0) == -7
    assert guest.traps == []
