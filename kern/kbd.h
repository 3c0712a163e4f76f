/* The PS/2 keyboard's scan-code decoder (kern/kbd.c). */
#ifndef JOS_KERN_KBD_H
#define JOS_KERN_KBD_H

/* The next character typed, 0 for a byte that is none, -1 if no byte is
 * waiting at the controller. */
int kbd_proc_data(void);

#endif
