/*
 * demo, Monitor (system partition) - watches the others.
 *
 * Each slot it prints one health line: the current plan and the state of
 * every other partition. It also reads the health-monitor log. When the log
 * shows a fault in the Controller, it halts the Controller and switches to
 * the maintenance plan (plan 1, which has no Controller slot); the switch
 * takes effect at the end of the current major frame. After three frames in
 * maintenance it halts the whole system, which ends the demo.
 */
#include "demo.h"

#define NUM_WATCHED 3           /* Sensor, Controller, Actuator */
#define CONTROLLER 1
#define MAINTENANCE_PLAN 1
#define MAINTENANCE_FRAMES 3

static const char *const state_names[] = { "idle", "ready", "suspended", "halted" };
static const char *const plan_names[] = { "normal", "maintenance" };

static const char *state_name(prtos_u32_t state)
{
    return state < 4 ? state_names[state] : "?";
}

static void print_health(prtos_s32_t plan)
{
    prtos_part_status_t st[NUM_WATCHED];
    prtos_s32_t id;

    for (id = 0; id < NUM_WATCHED; id++)
        prtos_get_partition_status(id, &st[id]);
    PRINT("plan %s | Sensor %s | Controller %s | Actuator %s\n", plan_names[plan],
          state_name(st[0].state), state_name(st[1].state), state_name(st[2].state));
}

/* Reads the new HM log records; returns 1 if one of them is a Controller fault. */
static prtos_s32_t check_hm_log(void)
{
    prtos_hm_log_t log;
    prtos_u32_t part, event;
    prtos_s32_t controller_fault = 0;

    while (prtos_hm_read(&log) == 1) {
        part = (log.op_code_lo & HMLOG_OPCODE_PARTID_MASK) >> HMLOG_OPCODE_PARTID_BIT;
        event = (log.op_code_lo & HMLOG_OPCODE_EVENT_MASK) >> HMLOG_OPCODE_EVENT_BIT;
        PRINT("HM log: event %d in partition %d at %lld us\n", event, part, log.timestamp);
        if (part == CONTROLLER)
            controller_fault = 1;
    }
    return controller_fault;
}

void partition_main(void)
{
    prtos_plan_status_t plan;
    prtos_u32_t prev;
    prtos_s32_t maintenance_frames = 0;

    while (1) {
        prtos_get_plan_status(&plan);
        print_health(plan.current);

        if (plan.current == MAINTENANCE_PLAN && ++maintenance_frames >= MAINTENANCE_FRAMES) {
            PRINT("maintenance ran %d frames, halting the system\n", maintenance_frames);
            prtos_halt_system();
        }

        if (check_hm_log()) {
            PRINT("Controller fault: halting it, maintenance plan from the next frame\n");
            prtos_halt_partition(CONTROLLER);
            prtos_switch_sched_plan(MAINTENANCE_PLAN, &prev);
        }
        prtos_idle_self();
    }
}
