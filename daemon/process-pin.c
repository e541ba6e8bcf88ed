/*
 * process-pin.c -- pinning: a connection's join never misses the final
 * state of a process it spawned. The record's ended state stays out of
 * the history's eviction (it is not on the table's ended list) until the
 * connection joins it, closes, or pins more than max_pinned ended
 * records (the oldest is released). A released record becomes the
 * history's newest, so it is kept for `history` more endings like any
 * other. Every operation is O(1); closing a connection is linear in its
 * own records.
 */
#include "corrald.h"
#include "process-table.h"
#include "process.h"

void
process_pins_init(struct process_pins *pins)
{
        TAILQ_INIT(&pins->live);
        TAILQ_INIT(&pins->ended);
        pins->nended = 0;
}

void
process_pin_attach(struct process *p, struct process_pins *pins)
{
        p->pins = pins;
        p->pin_ended = false;
        TAILQ_INSERT_TAIL(&pins->live, p, pin_entry);
}

void
process_pin_drop(struct process *p)
{
        struct process_pins *pins = p->pins;

        if (p->pin_ended) {
                TAILQ_REMOVE(&pins->ended, p, pin_entry);
                pins->nended--;
                p->table->pinned--;
                p->pin_ended = false;
        } else
                TAILQ_REMOVE(&pins->live, p, pin_entry);
        p->pins = NULL;
}

/* No longer pinned: an ended record joins the history. */
static void
process_pin_release(struct process *p)
{
        bool ended = p->pin_ended;

        process_pin_drop(p);
        if (ended)
                process_history_add(p->table, p);
}

void
process_pin_ended(struct process *p)
{
        struct process_pins *pins = p->pins;

        TAILQ_REMOVE(&pins->live, p, pin_entry);
        TAILQ_INSERT_TAIL(&pins->ended, p, pin_entry);
        p->pin_ended = true;
        pins->nended++;
        p->table->pinned++;
}

/* Started again (process.start, restart, a retry): live again, still its spawner's. */
void
process_pin_revived(struct process *p)
{
        struct process_pins *pins = p->pins;

        TAILQ_REMOVE(&pins->ended, p, pin_entry);
        TAILQ_INSERT_TAIL(&pins->live, p, pin_entry);
        p->pin_ended = false;
        pins->nended--;
        p->table->pinned--;
}

void
process_pins_bound(struct process_table *t, struct process_pins *pins)
{
        while (pins->nended > t->daemon->config.max_pinned)
                process_pin_release(TAILQ_FIRST(&pins->ended));
}

void
process_pins_release(struct process_pins *pins)
{
        struct process *p;

        while ((p = TAILQ_FIRST(&pins->live)) != NULL)
                process_pin_drop(p);
        /* Oldest first: they enter the history in the order they ended. */
        while ((p = TAILQ_FIRST(&pins->ended)) != NULL)
                process_pin_release(p);
}

void
process_unpin(struct process *p, const struct process_pins *by)
{
        if (p->pins == by && p->pin_ended)
                process_pin_release(p);
}
