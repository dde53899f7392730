/*
 * Uses every libprtos function, structure and macro of partition-api.md
 * (sections 1, 6-12) the way a partition program would, so that a missing
 * or mistyped declaration breaks the build under -Wall -Werror.
 *
 * LIBPRTOS_FIRST_HEADER, when defined, names a header included before
 * <prtos.h>, to show that include order does not matter.
 */
#ifdef LIBPRTOS_FIRST_HEADER
#include LIBPRTOS_FIRST_HEADER
#endif
#include <prtos.h>

/* Wrapper generators (section 9.7) define extra wrappers for user-chosen numbers. */
#define user_noarg_nr 8
#define user_one_nr 22
#define user_two_nr 15
#define user_three_nr 19
#define user_four_nr 28
#define user_five_nr 10
prtos_hcall0r(user_noarg)
prtos_hcall1r(user_one, prtos_address_t, a0)
prtos_hcall2r(user_two, prtos_u32_t, a0, prtos_u32_t, a1)
prtos_hcall3r(user_three, prtos_u32_t, a0, prtos_u32_t, a1, prtos_u16_t, a2)
prtos_hcall4r(user_four, prtos_u32_t, a0, prtos_address_t, a1, prtos_address_t, a2, prtos_u32_t, a3)
prtos_hcall5r(user_five, prtos_u32_t, a0, prtos_u32_t, a1, prtos_u32_t, a2, prtos_u32_t, a3, prtos_u32_t, a4)

#define user_void0_nr 42
#define user_void1_nr 22
#define user_void2_nr 16
#define user_void3_nr 19
#define user_void4_nr 28
#define user_void5_nr 10
prtos_hcall0(user_void0)
prtos_hcall1(user_void1, prtos_u32_t, a0)
prtos_hcall2(user_void2, prtos_u32_t, a0, prtos_u32_t, a1)
prtos_hcall3(user_void3, prtos_u32_t, a0, prtos_u32_t, a1, prtos_u32_t, a2)
prtos_hcall4(user_void4, prtos_u32_t, a0, prtos_u32_t, a1, prtos_u32_t, a2, prtos_u32_t, a3)
prtos_hcall5(user_void5, prtos_u32_t, a0, prtos_u32_t, a1, prtos_u32_t, a2, prtos_u32_t, a3, prtos_u32_t, a4)

#define user_lazy0_nr 8
#define user_lazy1_nr 22
#define user_lazy2_nr 20
#define user_lazy3_nr 39
#define user_lazy4_nr 28
#define user_lazy5_nr 10
prtos_lazy_hcall0(user_lazy0)
prtos_lazy_hcall1(user_lazy1, prtos_address_t, a0)
prtos_lazy_hcall2(user_lazy2, prtos_address_t, a0, prtos_u32_t, a1)
prtos_lazy_hcall3(user_lazy3, prtos_word_t, a0, prtos_word_t, a1, prtos_u32_t, a2)
prtos_lazy_hcall4(user_lazy4, prtos_u32_t, a0, prtos_u32_t, a1, prtos_u32_t, a2, prtos_u32_t, a3)
prtos_lazy_hcall5(user_lazy5, prtos_u32_t, a0, prtos_u32_t, a1, prtos_u32_t, a2, prtos_u32_t, a3, prtos_u32_t, a4)

/* An image header of the program's own (example.005 style). */
struct prtos_image_hdr prtos_image_hdr_test __PRTOS_IMAGE_HDR = {
    PRTOS_EXEC_PARTITION_MAGIC,
    PRTOS_SET_VERSION(PRTOS_ABI_VERSION, PRTOS_ABI_SUBVERSION, PRTOS_ABI_REVISION),
    PRTOS_SET_VERSION(PRTOS_API_VERSION, PRTOS_API_SUBVERSION, PRTOS_API_REVISION),
    0,
    CONFIG_SIZE_PAGE_TABLE * PAGE_SIZE,
    1,
    {{0x6000000, 0x1000}, {0, 0}, {0, 0}},
    PRTOS_EXEC_PARTITION_MAGIC,
};

static prtos_u32_t sink;

static void use(prtos_s64_t v) {
    sink += (prtos_u32_t)v;
}

static void types_and_helpers(void) {
    prtos_u8_t u8 = MAX_U8;
    prtos_s8_t s8 = MAX_S8;
    prtos_u16_t u16 = MAX_U16;
    prtos_s16_t s16 = MAX_S16;
    prtos_u32_t u32 = MAX_U32;
    prtos_s32_t s32 = MAX_S32;
    prtos_u64_t u64 = MAX_U64;
    prtos_s64_t s64 = MAX_S64;
    prtos_time_t t = MAX_PRTOSTIME;
    hw_time_t hwt = 0;
    prtos_long_t l = 0;
    prtos_word_t w = PRTOS_LOG2_WORD_SZ;
    prtos_id_t id = PRTOS_HYPERVISOR_ID;
    prtos_address_t a = PTR2ADDR(&sink);
    prtos_u_size_t us = 0;
    prtos_s_size_t ss = 0;
    prtos_io_address_t io = 0x3F8;
    prtos_obj_desc_t d = OBJDESC_BUILD(OBJ_CLASS_CONSOLE, 0, 0);
    prtos_word_t bm[2];
    void *p = ADDR2PTR(a);
    static const char fmt[] = "%" PRNT_ADDR_FMT "x " TO_STR(NR_HYPERCALLS);

    use(u8 + s8 + u16 + s16 + u32 + s32 + (prtos_s64_t)u64 + s64 + t + hwt + l + w + id + us + ss + io + d);
    use((prtos_word_t)p + fmt[0]);

    prtos_clear_bitmap(bm, 64);
    prtos_set_bitmap(bm, 64);
    prtos_set_bit(bm, 33, 64);
    prtos_clear_bit(bm, 33, 64);
    use(prtos_is_bit_set(bm, 33, 64));
}

static void descriptors(void) {
    prtos_obj_desc_t d = OBJDESC_BUILD_VCPUID(OBJ_CLASS_STATUS, 1, 2, 3);
    prtos_obj_desc_t n = OBJDESC_BUILD_NODEID(OBJ_CLASS_STATUS, 1, 2, 3);

    use(OBJDESC_GET_CLASS(d) + OBJDESC_GET_VCPUID(d) + OBJDESC_GET_NODEID(n) + OBJDESC_GET_PARTITIONID(d) +
        OBJDESC_GET_ID(d));
    d = OBJDESC_SET_CLASS(d, OBJ_CLASS_HM);
    d = OBJDESC_SET_VCPUID(d, 0);
    d = OBJDESC_SET_NODEID(d, 0);
    d = OBJDESC_SET_PARTITIONID(d, PRTOS_HYPERVISOR_ID);
    d = OBJDESC_SET_ID(d, 0);
    d = OBJDESC_SET_INVALID(d);
    use(OBJDESC_IS_VALID(d));
    d = OBJDESC_SET_VALID(d);
    use(d + OBJDESC_VALIDITY_MASK + OBJDESC_CLASS_MASK + OBJDESC_VCPUID_MASK + OBJDESC_NODEID_MASK +
        OBJDESC_PARTITIONID_MASK + OBJDESC_ID_MASK + OBJDESC_VALIDITY_BIT + OBJ_NO_CLASSES + OBJ_CLASS_NULL +
        OBJ_CLASS_TRACE + OBJ_CLASS_SAMPLING_PORT + OBJ_CLASS_QUEUING_PORT + OBJ_CLASS_MEM);
}

static void pct_access(void) {
    partition_control_table_t *pct = prtos_get_pct();
    partition_control_table_t *pct0 = prtos_get_pct0();
    struct prtos_physical_mem_map *mmap = prtos_get_partition_mmap();
    prtos_word_t *ports = prtos_get_commport_bitmap();
    struct pct_arch *arch = &pct->arch;
    struct cyclic_sched_info *csi = &pct->cyclic_sched_info;
    struct lib_prtos_params *lp = &lib_prtos_params;

    use(pct->magic + pct->prtos_version + pct->prtos_abi_version + pct->prtos_api_version +
        pct->part_ctrl_table_size + pct->reset_counter + pct->reset_status + pct->cpu_khz + pct->id +
        pct->num_of_vcpus + pct->flags + pct->image_start + pct->hw_irqs + pct->num_of_physical_mem_areas +
        pct->num_of_comm_ports + pct->name[0] + pct->iflags + pct->hw_irqs_pend + pct->hw_irqs_mask +
        pct->ext_irqs_pend + pct->ext_irqs_to_mask + pct->trap_to_vector[0] + pct->hw_irq_to_vector[0] +
        pct->ext_irq_to_vector[0]);
    use(arch->gdtr.limit + arch->gdtr.linear_base + arch->idtr.limit + arch->max_idt_vec + arch->tr + arch->cr4 +
        arch->cr3 + arch->cr2 + arch->cr0 + arch->_ARCH_PTDL1_REG);
    use(csi->num_of_slots + csi->id + csi->slot_duration);
    use(mmap[0].name[0] + mmap[0].start_addr + mmap[0].mapped_at + mmap[0].size + mmap[0].flags + ports[0]);
    use(PCT_GET_PARTITION_ID(pct0) + PCT_GET_VCPU_ID(pct) + PRTOS_PARTITION_SELF + PRTOS_VCPU_SELF);
    use(prtos_get_number_vcpus() + (prtos_word_t)lp->part_ctrl_table[0] + (prtos_word_t)lp->part_mem_map[0] +
        (prtos_word_t)lp->comm_port_bitmap[0]);
    use(pct->magic == KTHREAD_MAGIC);
    use(pct->flags & (KTHREAD_FP_F | KTHREAD_DCACHE_ENABLED_F | KTHREAD_ICACHE_ENABLED_F |
                      KTHREAD_NO_PARTITIONS_FIELD));
    use(pct->iflags & _CPU_FLAG_IF);
}

static void hypercalls(void) {
    static prtos_u32_t batch[8];
    prtos_time_t now;
    prtos_u32_t current_plan;
    struct trap_handler th;
    struct x86_tss tss;
    struct x86_desc_reg dr;
    struct x86_desc desc;
    struct x86_gate gate;
    generic_desc_t gd;

    use(prtos_multicall(&batch[0], &batch[3]));
    use(prtos_halt_partition(1));
    use(prtos_suspend_partition(1));
    use(prtos_resume_partition(1));
    use(prtos_reset_partition(1, PRTOS_WARM_RESET, 0));
    use(prtos_reset_partition(1, PRTOS_COLD_RESET & PRTOS_RESET_MODE, PRTOS_RESET_STATUS_PARTITION_NORMAL_START));
    use(prtos_shutdown_partition(1));
    use(prtos_halt_system());
    use(prtos_reset_system(PRTOS_COLD_RESET));
    use(prtos_idle_self());
    use(prtos_get_time(PRTOS_HW_CLOCK, &now));
    use(prtos_get_time(PRTOS_EXEC_CLOCK, &now));
    use(prtos_set_timer(PRTOS_HW_CLOCK, now + 1000LL, 1000LL));
    use(prtos_read_object(OBJDESC_BUILD(OBJ_CLASS_HM, PRTOS_HYPERVISOR_ID, 0), batch, sizeof(batch), 0));
    use(prtos_write_object(OBJDESC_BUILD(OBJ_CLASS_CONSOLE, 0, 0), "x", 1, 0));
    use(prtos_seek_object(OBJDESC_BUILD(OBJ_CLASS_HM, PRTOS_HYPERVISOR_ID, 0), 0, PRTOS_OBJ_SEEK_SET));
    use(prtos_seek_object(OBJDESC_BUILD(OBJ_CLASS_HM, PRTOS_HYPERVISOR_ID, 0), 0,
                          PRTOS_OBJ_SEEK_CUR + PRTOS_OBJ_SEEK_END));
    use(prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_STATUS, 0, 0), PRTOS_GET_SYSTEM_STATUS, batch));
    use(prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_HW_TIMER));
    use(prtos_set_irqmask(0, 1 << PRTOS_VT_EXT_EXEC_TIMER));
    use(prtos_set_irqpend(1 << PRTOS_VT_HW_FIRST, 1 << PRTOS_VT_EXT_IPVI0));
    use(prtos_clear_irqpend(1 << PRTOS_VT_HW_LAST, 1 << PRTOS_VT_EXT_IPVI7));
    use(prtos_route_irq(PRTOS_EXTIRQ_TYPE, PRTOS_VT_EXT_HW_TIMER, 224));
    use(prtos_route_irq(PRTOS_TRAP_TYPE + PRTOS_HWIRQ_TYPE, 0, FIRST_EXTERNAL_VECTOR));
    use(prtos_update_page32(0x1000, 0));
    use(prtos_set_page_type(0x1000, PPAG_STD + PPAG_PTDL1 + PPAG_PTDL2 + PPAG_PTDL3));
    use(prtos_invld_tlb((prtos_address_t)-1));
    use(prtos_raise_ipvi(PRTOS_VT_EXT_IPVI0));
    use(prtos_raise_partition_ipvi(0, PRTOS_VT_EXT_IPVI1));
    th.cs = GUEST_CS_SEL;
    th.ip = 0;
    use(prtos_override_trap_hndl(0, &th));
    use(prtos_switch_sched_plan(1, &current_plan));
    use(prtos_get_gid_by_name((prtos_u8_t *)"P0", PRTOS_PARTITION_NAME));
    use(prtos_get_gid_by_name((prtos_u8_t *)"plan", PRTOS_PLAN_NAME));
    use(prtos_reset_vcpu(1, 0x100000, 0x100000, 0));
    use(prtos_halt_vcpu(1));
    use(prtos_suspend_vcpu(1));
    use(prtos_resume_vcpu(1));
    use(prtos_get_vcpuid());
    use(prtos_flush_cache(PRTOS_DCACHE | PRTOS_ICACHE));
    use(prtos_set_cache_state(PRTOS_DCACHE));

    use(prtos_x86_load_cr0(_CR0_PE | _CR0_PG | _CR0_ET | _CR0_EM | _CR0_TS | _CR0_WP));
    use(prtos_x86_load_cr3(0));
    use(prtos_x86_load_cr4(_CR4_PSE | _CR4_PGE | (_CR4_PAE & 0)));
    tss.ss1 = GUEST_DS_SEL;
    tss.sp1 = 0;
    tss.ss2 = GUEST_DS_SEL;
    tss.sp2 = 0;
    tss.io_git_map_offset = 0;
    tss.trace_trap = 0;
    use(prtos_x86_load_tss(&tss));
    dr.limit = 23;
    dr.linear_base = 0;
    use(prtos_x86_load_gdt(&dr));
    use(prtos_x86_load_idtr(&dr));
    use(prtos_x86_update_ss_sp(GUEST_DS_SEL, 0x1000, 1));
    desc.high = 0;
    desc.low = X86DESC_LOW_P | (1 << X86DESC_LOW_DPL_POS) | X86DESC_LOW_S | (0xA << X86DESC_LOW_TYPE_POS);
    use(desc.present + desc.dpl + desc.type + desc.s + (desc.low & (X86DESC_LOW_DPL_MASK | X86DESC_LOW_TYPE_MASK)));
    use(prtos_x86_update_gdt(1, &desc));
    gate.high0 = 0;
    gate.low0 = X86GATE_LOW0_P;
    gate.offset15_0 = 0;
    gate.seg_selector = GUEST_CS_SEL;
    gate.word_count = 0;
    gate.access = 0xAF;
    gate.offset31_16 = 0;
    use(prtos_x86_update_idt(0x30, &gate));
    gd.high = 0;
    gd.low = 0;
    use(gd.high + gd.low);
    prtos_x86_set_if();
    prtos_x86_clear_if();
    __prtos_sti();
    __prtos_cli();
    use(prtos_x86_set_watchpoint(0));
    if (sink == 12345) prtos_x86_iret();
}

static void lazy(void) {
    struct x86_tss tss;
    struct x86_desc_reg dr;
    struct x86_desc desc;
    struct x86_gate gate;

    init_batch();
    prtos_lazy_hypercall(x86_load_cr0_nr, 1, 0x80000011);
    prtos_lazy_x86_load_cr0(0x80000011);
    prtos_lazy_x86_load_cr3(0);
    prtos_lazy_x86_load_cr4(0);
    prtos_lazy_x86_load_tss(&tss);
    prtos_lazy_x86_load_gdt(&dr);
    prtos_lazy_x86_load_idtr(&dr);
    prtos_lazy_x86_update_ss_sp(GUEST_DS_SEL, 0, 1);
    prtos_lazy_x86_update_gdt(1, &desc);
    prtos_lazy_x86_update_idt(0x30, &gate);
    prtos_lazy_invld_tlb(0);
    prtos_lazy_update_page32(0, 0);
    prtos_lazy_set_page_type(0, PPAG_STD);
    use(prtos_flush_hyp_batch());
}

static void console_and_memory(void) {
    static char msg[] = "hello\n";
    use(prtos_write_console(msg, sizeof(msg) - 1));
    use(prtos_memory_copy(0, 0x6000000, UNCHECKED_ID, 0x6100000, 16));
}

static void ports(void) {
    char buf[16];
    prtos_u32_t flags = 0;
    prtos_s32_t sp, qp;
    prtos_sampling_port_status_t sst;
    prtos_sampling_port_info_t sinfo;
    prtos_queuing_port_status_t qst;
    prtos_queuing_port_info_t qinfo;
    union sampling_port_cmd scmd;
    union queuing_port_cmd qcmd;
    struct create_s_cmd cs;
    struct create_q_cmd cq;

    sp = prtos_create_sampling_port("sp", sizeof(buf), PRTOS_SOURCE_PORT, PRTOS_INFINITE_TIME);
    qp = prtos_create_queuing_port("qp", 4, sizeof(buf), PRTOS_DESTINATION_PORT);
    use(prtos_write_sampling_message(sp, buf, sizeof(buf)));
    use(prtos_read_sampling_message(sp, buf, sizeof(buf), &flags));
    use(prtos_read_sampling_message(sp, buf, sizeof(buf), 0));
    use(flags & (PRTOS_COMM_MSG_VALID | PRTOS_COMM_NEW_MSG | PRTOS_COMM_CONSUMED_MSG | PRTOS_COMM_EMPTY_PORT));
    use(prtos_get_sampling_port_status(sp, &sst));
    use(sst.timestamp + sst.last_msg_size + sst.flags +
        ((sst.flags >> PRTOS_COMM_PORT_STATUS_B) & PRTOS_COMM_PORT_STATUS_M));
    use(prtos_get_sampling_port_info("sp", &sinfo));
    use((prtos_word_t)sinfo.port_name + sinfo.valid_period + sinfo.max_msg_size + sinfo.direction);
    use(prtos_send_queuing_message(qp, buf, sizeof(buf)));
    use(prtos_receive_queuing_message(qp, buf, sizeof(buf)));
    use(prtos_get_queuing_port_status(qp, &qst));
    use(qst.num_of_msgs);
    use(prtos_get_queuing_port_info("qp", &qinfo));
    use((prtos_word_t)qinfo.port_name + qinfo.max_msg_size + qinfo.max_num_of_msgs + qinfo.direction +
        qinfo.valid_period);
    cs.port_name = "x";
    cs.max_msg_size = 1;
    cs.direction = PRTOS_SOURCE_PORT;
    cs.valid_period = 0;
    scmd.create = cs;
    scmd.status = sst;
    scmd.info = sinfo;
    cq.port_name = "y";
    cq.max_num_of_msgs = 1;
    cq.max_msg_size = 1;
    cq.direction = PRTOS_DESTINATION_PORT;
    qcmd.create = cq;
    qcmd.status = qst;
    qcmd.info = qinfo;
    use(scmd.create.max_msg_size + qcmd.create.max_num_of_msgs + PRTOS_SAMPLING_PORT + PRTOS_QUEUING_PORT +
        PRTOS_SAMPLING_CHANNEL + PRTOS_QUEUING_CHANNEL + PRTOS_NULL_CHANNEL + PRTOS_COMM_CREATE_PORT +
        PRTOS_COMM_GET_PORT_STATUS + PRTOS_COMM_GET_PORT_INFO);
}

static void health_monitor(void) {
    prtos_hm_log_t log;
    struct prtos_hm_log *plog = &log;
    prtos_hm_status_t st;
    union hm_cmd cmd;
    struct hm_cpu_ctxt ctxt;

    while (prtos_hm_read(&log) > 0) {
        use(log.signature == PRTOS_HMLOG_SIGNATURE);
        use(log.checksum + log.timestamp + log.cpu_ctxt.pc + log.cpu_ctxt.psr +
            log.payload[PRTOS_HMLOG_PAYLOAD_LENGTH - 1]);
        use((plog->op_code_hi & HMLOG_OPCODE_SEQ_MASK) >> HMLOG_OPCODE_SEQ_BIT);
        use((plog->op_code_hi & HMLOG_OPCODE_VALID_CPUCTXT_MASK) >> HMLOG_OPCODE_VALID_CPUCTXT_BIT);
        use((plog->op_code_hi & HMLOG_OPCODE_SYS_MASK) >> HMLOG_OPCODE_SYS_BIT);
        use((plog->op_code_lo & HMLOG_OPCODE_EVENT_MASK) >> HMLOG_OPCODE_EVENT_BIT);
        use((plog->op_code_lo & HMLOG_OPCODE_VCPUID_MASK) >> HMLOG_OPCODE_VCPUID_BIT);
        use((plog->op_code_lo & HMLOG_OPCODE_PARTID_MASK) >> HMLOG_OPCODE_PARTID_BIT);
    }
    use(prtos_hm_seek(0, PRTOS_OBJ_SEEK_SET));
    use(prtos_hm_status(&st));
    use(st.num_of_events + st.max_events + st.current_event);
    cmd.status = st;
    ctxt = log.cpu_ctxt;
    use(cmd.status.max_events + ctxt.pc + PRTOS_HM_GET_STATUS + PRTOS_HM_LOCK_EVENTS + PRTOS_HM_UNLOCK_EVENTS +
        PRTOS_HM_RESET_EVENTS);
}

static void tracing(void) {
    prtos_trace_event_t ev;
    struct prtos_trace_event *pev = &ev;
    prtos_trace_status_t st;
    union trace_cmd cmd;
    prtos_s32_t stream;

    ev.signature = PRTOSTRACE_SIGNATURE;
    ev.checksum = 0;
    ev.op_code_hi = (PRTOS_TRACE_WARNING << TRACE_OPCODE_CRIT_BIT) & TRACE_OPCODE_CRIT_MASK;
    ev.op_code_lo = (1 << TRACE_OPCODE_CODE_BIT) & TRACE_OPCODE_CODE_MASK;
    ev.timestamp = 0;
    ev.payload[PRTOSTRACE_PAYLOAD_LENGTH - 1] = 0;
    use(prtos_trace_event(TRACE_BM_ALWAYS, &ev));
    stream = prtos_trace_open(PRTOS_PARTITION_SELF);
    while (prtos_trace_read(stream, &ev) > 0) {
        use((pev->op_code_hi & TRACE_OPCODE_SEQ_MASK) >> TRACE_OPCODE_SEQ_BIT);
        use((pev->op_code_hi & TRACE_OPCODE_SYS_MASK) >> TRACE_OPCODE_SYS_BIT);
        use((pev->op_code_lo & TRACE_OPCODE_VCPUID_MASK) >> TRACE_OPCODE_VCPUID_BIT);
        use((pev->op_code_lo & TRACE_OPCODE_PARTID_MASK) >> TRACE_OPCODE_PARTID_BIT);
    }
    use(prtos_trace_seek(stream, 0, PRTOS_TRACE_SEEK_SET));
    use(prtos_trace_seek(stream, 0, PRTOS_TRACE_SEEK_CUR + PRTOS_TRACE_SEEK_END));
    use(prtos_trace_status(stream, &st));
    cmd.status = st;
    use(cmd.status.num_of_events + st.max_events + st.current_event + PRTOS_TRACE_NOTIFY + PRTOS_TRACE_DEBUG +
        PRTOS_TRACE_UNRECOVERABLE + PRTOS_TRACE_GET_STATUS + PRTOS_TRACE_LOCK + PRTOS_TRACE_UNLOCK +
        PRTOS_TRACE_RESET);
}

static void status(void) {
    prtos_sys_status_t sys;
    prtos_part_status_t part;
    prtos_virtual_cpu_status_t vcpu;
    prtos_plan_status_t plan;
    prtos_phys_page_status_t page;
    union status_fmd fmd;

    use(prtos_get_system_status(&sys));
    use(sys.reset_counter + sys.num_of_hm_events + sys.num_of_irqs + sys.current_maf +
        sys.num_of_sampling_port_msgs_read + sys.num_of_sampling_port_msgs_written +
        sys.num_of_queuing_port_msgs_sent + sys.num_of_queuing_port_msgs_received);
    use(prtos_get_partition_status(PRTOS_PARTITION_SELF, &part));
    use(part.state + part.op_mode + part.num_of_virqs + part.reset_counter + part.reset_status + part.exec_clock +
        part.num_of_sampling_port_msgs_read + part.num_of_sampling_port_msgs_written +
        part.num_of_queuing_port_msgs_sent + part.num_of_queuing_port_msgs_received);
    use(prtos_get_vcpu_status(0, &vcpu));
    use(prtos_get_partition_vcpu_status(0, 0, &vcpu));
    use(vcpu.state == PRTOS_STATUS_READY);
    use(vcpu.op_mode == PRTOS_OPMODE_NORMAL);
    use(prtos_set_partition_opmode(PRTOS_OPMODE_NORMAL));
    use(prtos_get_plan_status(&plan));
    use(plan.switch_time + plan.next + plan.current + plan.prev);
    use(prtos_get_physpage_status(0x6000000, &page));
    use(page.p_addr + page.type + page.counter + page.unused);
    fmd.status.system = sys;
    fmd.status.partition = part;
    fmd.status.vcpu = vcpu;
    fmd.status.plan = plan;
    fmd.status.phys_page = page;
    fmd.op_mode = PRTOS_OPMODE_IDLE;
    use(fmd.op_mode + PRTOS_STATUS_IDLE + PRTOS_STATUS_SUSPENDED + PRTOS_STATUS_HALTED + PRTOS_OPMODE_COLD_RESET +
        PRTOS_OPMODE_WARM_RESET + PRTOS_GET_SYSTEM_STATUS + PRTOS_GET_SCHED_PLAN_STATUS +
        PRTOS_SET_PARTITION_OPMODE + PRTOS_GET_PHYSPAGE_STATUS + PRTOS_GET_VCPU_STATUS);
}

static void memory_objects(void) {
    union mem_cmd cmd;
    struct cpy_area *area = &cmd.cpy_area;

    area->dst_id = 0;
    area->dst_addr = 0;
    area->src_id = UNCHECKED_ID;
    area->src_addr = 0;
    area->size = 0;
    use(prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_MEM, 0, 0), PRTOS_OBJ_MEM_CPY_AREA, &cmd));
}

/* Start-up as BAIL does it; then every group above. */
void partition_main_libprtos_api(void);
void partition_main_libprtos_api(void) {
    init_libprtos((partition_control_table_t *)PRTOS_PCTRLTAB_ADDR);
    init_arch_libprtos();
    types_and_helpers();
    descriptors();
    pct_access();
    hypercalls();
    lazy();
    console_and_memory();
    ports();
    health_monitor();
    tracing();
    status();
    memory_objects();
    use(prtos_user_noarg() + prtos_user_one(0) + prtos_user_two(0, 0) + prtos_user_three(0, 0, 0) +
        prtos_user_four(0, 0, 0, 0) + prtos_user_five(0, 0, 0, 0, 0));
    prtos_user_void0();
    prtos_user_void1(0);
    prtos_user_void2(0, 0);
    prtos_user_void3(0, 0, 0);
    prtos_user_void4(0, 0, 0, 0);
    prtos_user_void5(0, 0, 0, 0, 0);
    prtos_lazy_user_lazy0();
    prtos_lazy_user_lazy1(0);
    prtos_lazy_user_lazy2(0, 0);
    prtos_lazy_user_lazy3(0, 0, 0);
    prtos_lazy_user_lazy4(0, 0, 0, 0);
    prtos_lazy_user_lazy5(0, 0, 0, 0, 0);
}
