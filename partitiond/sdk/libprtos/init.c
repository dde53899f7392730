/*
 * init.c - libprtos start-up: locate this vCPU's PCT, memory map and port
 * bitmap inside the PCT array the kernel maps at EBX-at-entry.
 */
#include <prtos.h>

struct lib_prtos_params lib_prtos_params;

/*
 * Block e of the PCT array starts at base + e * part_ctrl_table_size (D-46)
 * and holds the PCT, then the memory-area table, then the port bitmap.
 */
__stdcall void init_libprtos(partition_control_table_t *part_ctrl_table) {
    prtos_id_t e = prtos_get_vcpuid();
    partition_control_table_t *pct;
    struct prtos_physical_mem_map *mem_map;

    if (e < CONFIG_MAX_NO_VCPUS) {
        pct = (partition_control_table_t *)((prtos_address_t)part_ctrl_table +
                                            e * part_ctrl_table->part_ctrl_table_size);
        mem_map = (struct prtos_physical_mem_map *)((prtos_address_t)pct + sizeof(partition_control_table_t));
        lib_prtos_params.part_ctrl_table[e] = pct;
        lib_prtos_params.part_mem_map[e] = mem_map;
        lib_prtos_params.comm_port_bitmap[e] = (prtos_word_t *)(mem_map + pct->num_of_physical_mem_areas);
    }
    init_batch();
    init_arch_libprtos();
}
