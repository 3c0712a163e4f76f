/*
 * The 16550 UART's registers, as offsets from its base port, and the bits
 * this kernel uses (National Semiconductor PC16550D datasheet). COM1 is
 * the console (kern/console.c), COM2 the guest gdb stub's line
 * (kern/com2.c). Constants only.
 */
#ifndef JOS_INC_UART_H
#define JOS_INC_UART_H

#define COM1 0x3F8
#define COM2 0x2F8

#define COM_RX 0            /* in: receive buffer (DLAB = 0) */
#define COM_TX 0            /* out: transmit holding (DLAB = 0) */
#define COM_DLL 0           /* out: divisor latch, low byte (DLAB = 1) */
#define COM_DLM 1           /* out: divisor latch, high byte (DLAB = 1) */
#define COM_IER 1           /* out: interrupt enable */
#define COM_IER_RDI 0x01    /*   received data (or the FIFO's timeout) */
#define COM_IER_THRI 0x02   /*   transmit holding register empty */
#define COM_FCR 2           /* out: FIFO control */
#define COM_FCR_ON 0x01     /*   FIFOs on (receive trigger: 1 byte) */
#define COM_FCR_CLR_RX 0x02 /*   empty the receive FIFO */
#define COM_FCR_CLR_TX 0x04 /*   empty the transmit FIFO */
#define COM_FCR_TRIG14 0xC0 /*   receive interrupt at 14 bytes */
#define COM_IIR 2           /* in: interrupt identification */
#define COM_LCR 3           /* out: line control */
#define COM_LCR_DLAB 0x80   /*   divisor latch access */
#define COM_LCR_8N1 0x03    /*   8 data bits, no parity, 1 stop bit */
#define COM_MCR 4           /* out: modem control */
#define COM_MCR_DTR 0x01
#define COM_MCR_RTS 0x02
#define COM_MCR_OUT2 0x08   /*   on PCs, gates the IRQ line to the PIC */
#define COM_LSR 5           /* in: line status */
#define COM_LSR_DATA 0x01   /*   a received byte is waiting */
#define COM_LSR_OVERRUN 0x02 /*  a received byte was lost (FIFO full) */
#define COM_LSR_THRE 0x20   /*   transmit holding register (FIFO) empty */

/* A 16550's FIFOs hold this many bytes each way. */
#define COM_FIFO 16
/* With no UART the bus floats and every register reads this. */
#define COM_ABSENT 0xFF

#define COM_BAUD 115200
#define COM_CLOCK 115200 /* the UART's base rate: divisor 1 = full speed */

#endif /* !JOS_INC_UART_H */
