/* SPDX-License-Identifier: MIT */
/*
 * session_carry.h — entries of one session copied into another on demand, each once, with
 * what they use: the stack nodes' callers and frames, a thread's process. What a window of a
 * session keeps (session_window.h), and what the agent's live session keeps when the
 * collector moves it into a new one at a slice's cut (record/rebase.c).
 *
 * Each call returns the entry's index in the new session, the same for the same entry, or -1
 * with errno set: EINVAL for an index out of range or a malformed stack, ENOMEM.
 */
#ifndef PYFLARE_SESSION_CARRY_H
#define PYFLARE_SESSION_CARRY_H

#include <stdbool.h>
#include <stdint.h>

#include "session/session.h"

struct session_carry;

/* From @from into @to (both outlive it): NULL with errno set (ENOMEM). */
struct session_carry *session_carry_new(const struct session *from, struct session *to);
void session_carry_free(struct session_carry *c); /* accepts NULL */

int64_t session_carry_process(struct session_carry *c, uint32_t process);
int64_t session_carry_thread(struct session_carry *c, uint32_t thread); /* and its process */
int64_t session_carry_frame(struct session_carry *c, uint32_t frame);
int64_t session_carry_stack(struct session_carry *c, uint32_t node); /* its callers, frames */

/*
 * The samples of the source for which @keep(time, @ctx) holds, with their threads and stacks,
 * each @shift_ns earlier (at 0 when it was earlier than that): 0 or -errno.
 */
int session_carry_samples(struct session_carry *c, bool (*keep)(uint64_t time_ns, const void *ctx),
			  const void *ctx, uint64_t shift_ns);

#endif /* PYFLARE_SESSION_CARRY_H */
