/*
 * h2x_huff_gen: generates common/h2x_huff_table.h from the tables of
 * RFC 7541 typed in below: Appendix B (the Huffman code) and Appendix A
 * (the static table).
 *
 *   make gen         regenerate the checked-in file
 *   make gen-check   regenerate into build/ and fail on any difference
 *
 * Output:
 *   h2x_huff_code[257], h2x_huff_len[257]   the code (EOS is 256)
 *   h2x_huff_enc[256]                       encoder: len << 32 | code
 *   h2x_huff_dec[1 << H2X_HUFF_PEEK]        decoder: the next PEEK bits
 *       give up to two symbols whose codes fit in them:
 *       sym1 | sym2 << 8 | bits of both << 16 | bits of sym1 << 24,
 *       0 when the first code is longer than PEEK bits
 *   h2x_huff_limit[31], h2x_huff_base[31],
 *   h2x_huff_sorted[257]                    canonical decoding of the
 *       longer codes: the code is the shortest len whose left-justified
 *       32-bit limit exceeds the next 32 bits; its symbol is
 *       sorted[(bits >> (32 - len)) - base[len]]
 *   h2x_hpack_static[62]                    Appendix A, index 1..61
 *   h2x_hpack_static_first[62]              the lowest index with the
 *       same name as each index
 *   h2x_hpack_static_span[62]               at a lowest index, how many
 *       entries have that name (0 elsewhere)
 *   h2x_hpack_static_slot[]                 collision-free hash of the
 *       distinct static names (H2X_HPACK_STATIC_HASH) to their lowest
 *       index, 0 for an empty slot
 *
 * The generator checks what the decoder relies on: the code is complete
 * (Kraft sum 1), canonical (codes of one length are consecutive, in
 * symbol order, and left-justified codes grow with length), and EOS is
 * the 30-bit all-ones code.
 */

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>


#define PEEK  12


/* RFC 7541 Appendix B: code (right-aligned) and length in bits, by symbol. */
static const struct {
    uint32_t    code;
    unsigned    len;
} huff[257] = {
    { 0x00001ff8, 13 },  /*       (  0)  |11111111|11000 */
    { 0x007fffd8, 23 },  /*       (  1)  |11111111|11111111|1011000 */
    { 0x0fffffe2, 28 },  /*       (  2)  |11111111|11111111|11111110|0010 */
    { 0x0fffffe3, 28 },  /*       (  3)  |11111111|11111111|11111110|0011 */
    { 0x0fffffe4, 28 },  /*       (  4)  |11111111|11111111|11111110|0100 */
    { 0x0fffffe5, 28 },  /*       (  5)  |11111111|11111111|11111110|0101 */
    { 0x0fffffe6, 28 },  /*       (  6)  |11111111|11111111|11111110|0110 */
    { 0x0fffffe7, 28 },  /*       (  7)  |11111111|11111111|11111110|0111 */
    { 0x0fffffe8, 28 },  /*       (  8)  |11111111|11111111|11111110|1000 */
    { 0x00ffffea, 24 },  /*       (  9)  |11111111|11111111|11101010 */
    { 0x3ffffffc, 30 },  /*       ( 10)  |11111111|11111111|11111111|111100 */
    { 0x0fffffe9, 28 },  /*       ( 11)  |11111111|11111111|11111110|1001 */
    { 0x0fffffea, 28 },  /*       ( 12)  |11111111|11111111|11111110|1010 */
    { 0x3ffffffd, 30 },  /*       ( 13)  |11111111|11111111|11111111|111101 */
    { 0x0fffffeb, 28 },  /*       ( 14)  |11111111|11111111|11111110|1011 */
    { 0x0fffffec, 28 },  /*       ( 15)  |11111111|11111111|11111110|1100 */
    { 0x0fffffed, 28 },  /*       ( 16)  |11111111|11111111|11111110|1101 */
    { 0x0fffffee, 28 },  /*       ( 17)  |11111111|11111111|11111110|1110 */
    { 0x0fffffef, 28 },  /*       ( 18)  |11111111|11111111|11111110|1111 */
    { 0x0ffffff0, 28 },  /*       ( 19)  |11111111|11111111|11111111|0000 */
    { 0x0ffffff1, 28 },  /*       ( 20)  |11111111|11111111|11111111|0001 */
    { 0x0ffffff2, 28 },  /*       ( 21)  |11111111|11111111|11111111|0010 */
    { 0x3ffffffe, 30 },  /*       ( 22)  |11111111|11111111|11111111|111110 */
    { 0x0ffffff3, 28 },  /*       ( 23)  |11111111|11111111|11111111|0011 */
    { 0x0ffffff4, 28 },  /*       ( 24)  |11111111|11111111|11111111|0100 */
    { 0x0ffffff5, 28 },  /*       ( 25)  |11111111|11111111|11111111|0101 */
    { 0x0ffffff6, 28 },  /*       ( 26)  |11111111|11111111|11111111|0110 */
    { 0x0ffffff7, 28 },  /*       ( 27)  |11111111|11111111|11111111|0111 */
    { 0x0ffffff8, 28 },  /*       ( 28)  |11111111|11111111|11111111|1000 */
    { 0x0ffffff9, 28 },  /*       ( 29)  |11111111|11111111|11111111|1001 */
    { 0x0ffffffa, 28 },  /*       ( 30)  |11111111|11111111|11111111|1010 */
    { 0x0ffffffb, 28 },  /*       ( 31)  |11111111|11111111|11111111|1011 */
    { 0x00000014,  6 },  /* ' '   ( 32)  |010100 */
    { 0x000003f8, 10 },  /* '!'   ( 33)  |11111110|00 */
    { 0x000003f9, 10 },  /* '"'   ( 34)  |11111110|01 */
    { 0x00000ffa, 12 },  /* '#'   ( 35)  |11111111|1010 */
    { 0x00001ff9, 13 },  /* '$'   ( 36)  |11111111|11001 */
    { 0x00000015,  6 },  /* '%'   ( 37)  |010101 */
    { 0x000000f8,  8 },  /* '&'   ( 38)  |11111000 */
    { 0x000007fa, 11 },  /* '''   ( 39)  |11111111|010 */
    { 0x000003fa, 10 },  /* '('   ( 40)  |11111110|10 */
    { 0x000003fb, 10 },  /* ')'   ( 41)  |11111110|11 */
    { 0x000000f9,  8 },  /* '*'   ( 42)  |11111001 */
    { 0x000007fb, 11 },  /* '+'   ( 43)  |11111111|011 */
    { 0x000000fa,  8 },  /* ','   ( 44)  |11111010 */
    { 0x00000016,  6 },  /* '-'   ( 45)  |010110 */
    { 0x00000017,  6 },  /* '.'   ( 46)  |010111 */
    { 0x00000018,  6 },  /* '/'   ( 47)  |011000 */
    { 0x00000000,  5 },  /* '0'   ( 48)  |00000 */
    { 0x00000001,  5 },  /* '1'   ( 49)  |00001 */
    { 0x00000002,  5 },  /* '2'   ( 50)  |00010 */
    { 0x00000019,  6 },  /* '3'   ( 51)  |011001 */
    { 0x0000001a,  6 },  /* '4'   ( 52)  |011010 */
    { 0x0000001b,  6 },  /* '5'   ( 53)  |011011 */
    { 0x0000001c,  6 },  /* '6'   ( 54)  |011100 */
    { 0x0000001d,  6 },  /* '7'   ( 55)  |011101 */
    { 0x0000001e,  6 },  /* '8'   ( 56)  |011110 */
    { 0x0000001f,  6 },  /* '9'   ( 57)  |011111 */
    { 0x0000005c,  7 },  /* ':'   ( 58)  |1011100 */
    { 0x000000fb,  8 },  /* ';'   ( 59)  |11111011 */
    { 0x00007ffc, 15 },  /* '<'   ( 60)  |11111111|1111100 */
    { 0x00000020,  6 },  /* '='   ( 61)  |100000 */
    { 0x00000ffb, 12 },  /* '>'   ( 62)  |11111111|1011 */
    { 0x000003fc, 10 },  /* '?'   ( 63)  |11111111|00 */
    { 0x00001ffa, 13 },  /* '@'   ( 64)  |11111111|11010 */
    { 0x00000021,  6 },  /* 'A'   ( 65)  |100001 */
    { 0x0000005d,  7 },  /* 'B'   ( 66)  |1011101 */
    { 0x0000005e,  7 },  /* 'C'   ( 67)  |1011110 */
    { 0x0000005f,  7 },  /* 'D'   ( 68)  |1011111 */
    { 0x00000060,  7 },  /* 'E'   ( 69)  |1100000 */
    { 0x00000061,  7 },  /* 'F'   ( 70)  |1100001 */
    { 0x00000062,  7 },  /* 'G'   ( 71)  |1100010 */
    { 0x00000063,  7 },  /* 'H'   ( 72)  |1100011 */
    { 0x00000064,  7 },  /* 'I'   ( 73)  |1100100 */
    { 0x00000065,  7 },  /* 'J'   ( 74)  |1100101 */
    { 0x00000066,  7 },  /* 'K'   ( 75)  |1100110 */
    { 0x00000067,  7 },  /* 'L'   ( 76)  |1100111 */
    { 0x00000068,  7 },  /* 'M'   ( 77)  |1101000 */
    { 0x00000069,  7 },  /* 'N'   ( 78)  |1101001 */
    { 0x0000006a,  7 },  /* 'O'   ( 79)  |1101010 */
    { 0x0000006b,  7 },  /* 'P'   ( 80)  |1101011 */
    { 0x0000006c,  7 },  /* 'Q'   ( 81)  |1101100 */
    { 0x0000006d,  7 },  /* 'R'   ( 82)  |1101101 */
    { 0x0000006e,  7 },  /* 'S'   ( 83)  |1101110 */
    { 0x0000006f,  7 },  /* 'T'   ( 84)  |1101111 */
    { 0x00000070,  7 },  /* 'U'   ( 85)  |1110000 */
    { 0x00000071,  7 },  /* 'V'   ( 86)  |1110001 */
    { 0x00000072,  7 },  /* 'W'   ( 87)  |1110010 */
    { 0x000000fc,  8 },  /* 'X'   ( 88)  |11111100 */
    { 0x00000073,  7 },  /* 'Y'   ( 89)  |1110011 */
    { 0x000000fd,  8 },  /* 'Z'   ( 90)  |11111101 */
    { 0x00001ffb, 13 },  /* '['   ( 91)  |11111111|11011 */
    { 0x0007fff0, 19 },  /* '\\'  ( 92)  |11111111|11111110|000 */
    { 0x00001ffc, 13 },  /* ']'   ( 93)  |11111111|11100 */
    { 0x00003ffc, 14 },  /* '^'   ( 94)  |11111111|111100 */
    { 0x00000022,  6 },  /* '_'   ( 95)  |100010 */
    { 0x00007ffd, 15 },  /* '`'   ( 96)  |11111111|1111101 */
    { 0x00000003,  5 },  /* 'a'   ( 97)  |00011 */
    { 0x00000023,  6 },  /* 'b'   ( 98)  |100011 */
    { 0x00000004,  5 },  /* 'c'   ( 99)  |00100 */
    { 0x00000024,  6 },  /* 'd'   (100)  |100100 */
    { 0x00000005,  5 },  /* 'e'   (101)  |00101 */
    { 0x00000025,  6 },  /* 'f'   (102)  |100101 */
    { 0x00000026,  6 },  /* 'g'   (103)  |100110 */
    { 0x00000027,  6 },  /* 'h'   (104)  |100111 */
    { 0x00000006,  5 },  /* 'i'   (105)  |00110 */
    { 0x00000074,  7 },  /* 'j'   (106)  |1110100 */
    { 0x00000075,  7 },  /* 'k'   (107)  |1110101 */
    { 0x00000028,  6 },  /* 'l'   (108)  |101000 */
    { 0x00000029,  6 },  /* 'm'   (109)  |101001 */
    { 0x0000002a,  6 },  /* 'n'   (110)  |101010 */
    { 0x00000007,  5 },  /* 'o'   (111)  |00111 */
    { 0x0000002b,  6 },  /* 'p'   (112)  |101011 */
    { 0x00000076,  7 },  /* 'q'   (113)  |1110110 */
    { 0x0000002c,  6 },  /* 'r'   (114)  |101100 */
    { 0x00000008,  5 },  /* 's'   (115)  |01000 */
    { 0x00000009,  5 },  /* 't'   (116)  |01001 */
    { 0x0000002d,  6 },  /* 'u'   (117)  |101101 */
    { 0x00000077,  7 },  /* 'v'   (118)  |1110111 */
    { 0x00000078,  7 },  /* 'w'   (119)  |1111000 */
    { 0x00000079,  7 },  /* 'x'   (120)  |1111001 */
    { 0x0000007a,  7 },  /* 'y'   (121)  |1111010 */
    { 0x0000007b,  7 },  /* 'z'   (122)  |1111011 */
    { 0x00007ffe, 15 },  /* '{'   (123)  |11111111|1111110 */
    { 0x000007fc, 11 },  /* '|'   (124)  |11111111|100 */
    { 0x00003ffd, 14 },  /* '}'   (125)  |11111111|111101 */
    { 0x00001ffd, 13 },  /* '~'   (126)  |11111111|11101 */
    { 0x0ffffffc, 28 },  /*       (127)  |11111111|11111111|11111111|1100 */
    { 0x000fffe6, 20 },  /*       (128)  |11111111|11111110|0110 */
    { 0x003fffd2, 22 },  /*       (129)  |11111111|11111111|010010 */
    { 0x000fffe7, 20 },  /*       (130)  |11111111|11111110|0111 */
    { 0x000fffe8, 20 },  /*       (131)  |11111111|11111110|1000 */
    { 0x003fffd3, 22 },  /*       (132)  |11111111|11111111|010011 */
    { 0x003fffd4, 22 },  /*       (133)  |11111111|11111111|010100 */
    { 0x003fffd5, 22 },  /*       (134)  |11111111|11111111|010101 */
    { 0x007fffd9, 23 },  /*       (135)  |11111111|11111111|1011001 */
    { 0x003fffd6, 22 },  /*       (136)  |11111111|11111111|010110 */
    { 0x007fffda, 23 },  /*       (137)  |11111111|11111111|1011010 */
    { 0x007fffdb, 23 },  /*       (138)  |11111111|11111111|1011011 */
    { 0x007fffdc, 23 },  /*       (139)  |11111111|11111111|1011100 */
    { 0x007fffdd, 23 },  /*       (140)  |11111111|11111111|1011101 */
    { 0x007fffde, 23 },  /*       (141)  |11111111|11111111|1011110 */
    { 0x00ffffeb, 24 },  /*       (142)  |11111111|11111111|11101011 */
    { 0x007fffdf, 23 },  /*       (143)  |11111111|11111111|1011111 */
    { 0x00ffffec, 24 },  /*       (144)  |11111111|11111111|11101100 */
    { 0x00ffffed, 24 },  /*       (145)  |11111111|11111111|11101101 */
    { 0x003fffd7, 22 },  /*       (146)  |11111111|11111111|010111 */
    { 0x007fffe0, 23 },  /*       (147)  |11111111|11111111|1100000 */
    { 0x00ffffee, 24 },  /*       (148)  |11111111|11111111|11101110 */
    { 0x007fffe1, 23 },  /*       (149)  |11111111|11111111|1100001 */
    { 0x007fffe2, 23 },  /*       (150)  |11111111|11111111|1100010 */
    { 0x007fffe3, 23 },  /*       (151)  |11111111|11111111|1100011 */
    { 0x007fffe4, 23 },  /*       (152)  |11111111|11111111|1100100 */
    { 0x001fffdc, 21 },  /*       (153)  |11111111|11111110|11100 */
    { 0x003fffd8, 22 },  /*       (154)  |11111111|11111111|011000 */
    { 0x007fffe5, 23 },  /*       (155)  |11111111|11111111|1100101 */
    { 0x003fffd9, 22 },  /*       (156)  |11111111|11111111|011001 */
    { 0x007fffe6, 23 },  /*       (157)  |11111111|11111111|1100110 */
    { 0x007fffe7, 23 },  /*       (158)  |11111111|11111111|1100111 */
    { 0x00ffffef, 24 },  /*       (159)  |11111111|11111111|11101111 */
    { 0x003fffda, 22 },  /*       (160)  |11111111|11111111|011010 */
    { 0x001fffdd, 21 },  /*       (161)  |11111111|11111110|11101 */
    { 0x000fffe9, 20 },  /*       (162)  |11111111|11111110|1001 */
    { 0x003fffdb, 22 },  /*       (163)  |11111111|11111111|011011 */
    { 0x003fffdc, 22 },  /*       (164)  |11111111|11111111|011100 */
    { 0x007fffe8, 23 },  /*       (165)  |11111111|11111111|1101000 */
    { 0x007fffe9, 23 },  /*       (166)  |11111111|11111111|1101001 */
    { 0x001fffde, 21 },  /*       (167)  |11111111|11111110|11110 */
    { 0x007fffea, 23 },  /*       (168)  |11111111|11111111|1101010 */
    { 0x003fffdd, 22 },  /*       (169)  |11111111|11111111|011101 */
    { 0x003fffde, 22 },  /*       (170)  |11111111|11111111|011110 */
    { 0x00fffff0, 24 },  /*       (171)  |11111111|11111111|11110000 */
    { 0x001fffdf, 21 },  /*       (172)  |11111111|11111110|11111 */
    { 0x003fffdf, 22 },  /*       (173)  |11111111|11111111|011111 */
    { 0x007fffeb, 23 },  /*       (174)  |11111111|11111111|1101011 */
    { 0x007fffec, 23 },  /*       (175)  |11111111|11111111|1101100 */
    { 0x001fffe0, 21 },  /*       (176)  |11111111|11111111|00000 */
    { 0x001fffe1, 21 },  /*       (177)  |11111111|11111111|00001 */
    { 0x003fffe0, 22 },  /*       (178)  |11111111|11111111|100000 */
    { 0x001fffe2, 21 },  /*       (179)  |11111111|11111111|00010 */
    { 0x007fffed, 23 },  /*       (180)  |11111111|11111111|1101101 */
    { 0x003fffe1, 22 },  /*       (181)  |11111111|11111111|100001 */
    { 0x007fffee, 23 },  /*       (182)  |11111111|11111111|1101110 */
    { 0x007fffef, 23 },  /*       (183)  |11111111|11111111|1101111 */
    { 0x000fffea, 20 },  /*       (184)  |11111111|11111110|1010 */
    { 0x003fffe2, 22 },  /*       (185)  |11111111|11111111|100010 */
    { 0x003fffe3, 22 },  /*       (186)  |11111111|11111111|100011 */
    { 0x003fffe4, 22 },  /*       (187)  |11111111|11111111|100100 */
    { 0x007ffff0, 23 },  /*       (188)  |11111111|11111111|1110000 */
    { 0x003fffe5, 22 },  /*       (189)  |11111111|11111111|100101 */
    { 0x003fffe6, 22 },  /*       (190)  |11111111|11111111|100110 */
    { 0x007ffff1, 23 },  /*       (191)  |11111111|11111111|1110001 */
    { 0x03ffffe0, 26 },  /*       (192)  |11111111|11111111|11111000|00 */
    { 0x03ffffe1, 26 },  /*       (193)  |11111111|11111111|11111000|01 */
    { 0x000fffeb, 20 },  /*       (194)  |11111111|11111110|1011 */
    { 0x0007fff1, 19 },  /*       (195)  |11111111|11111110|001 */
    { 0x003fffe7, 22 },  /*       (196)  |11111111|11111111|100111 */
    { 0x007ffff2, 23 },  /*       (197)  |11111111|11111111|1110010 */
    { 0x003fffe8, 22 },  /*       (198)  |11111111|11111111|101000 */
    { 0x01ffffec, 25 },  /*       (199)  |11111111|11111111|11110110|0 */
    { 0x03ffffe2, 26 },  /*       (200)  |11111111|11111111|11111000|10 */
    { 0x03ffffe3, 26 },  /*       (201)  |11111111|11111111|11111000|11 */
    { 0x03ffffe4, 26 },  /*       (202)  |11111111|11111111|11111001|00 */
    { 0x07ffffde, 27 },  /*       (203)  |11111111|11111111|11111011|110 */
    { 0x07ffffdf, 27 },  /*       (204)  |11111111|11111111|11111011|111 */
    { 0x03ffffe5, 26 },  /*       (205)  |11111111|11111111|11111001|01 */
    { 0x00fffff1, 24 },  /*       (206)  |11111111|11111111|11110001 */
    { 0x01ffffed, 25 },  /*       (207)  |11111111|11111111|11110110|1 */
    { 0x0007fff2, 19 },  /*       (208)  |11111111|11111110|010 */
    { 0x001fffe3, 21 },  /*       (209)  |11111111|11111111|00011 */
    { 0x03ffffe6, 26 },  /*       (210)  |11111111|11111111|11111001|10 */
    { 0x07ffffe0, 27 },  /*       (211)  |11111111|11111111|11111100|000 */
    { 0x07ffffe1, 27 },  /*       (212)  |11111111|11111111|11111100|001 */
    { 0x03ffffe7, 26 },  /*       (213)  |11111111|11111111|11111001|11 */
    { 0x07ffffe2, 27 },  /*       (214)  |11111111|11111111|11111100|010 */
    { 0x00fffff2, 24 },  /*       (215)  |11111111|11111111|11110010 */
    { 0x001fffe4, 21 },  /*       (216)  |11111111|11111111|00100 */
    { 0x001fffe5, 21 },  /*       (217)  |11111111|11111111|00101 */
    { 0x03ffffe8, 26 },  /*       (218)  |11111111|11111111|11111010|00 */
    { 0x03ffffe9, 26 },  /*       (219)  |11111111|11111111|11111010|01 */
    { 0x0ffffffd, 28 },  /*       (220)  |11111111|11111111|11111111|1101 */
    { 0x07ffffe3, 27 },  /*       (221)  |11111111|11111111|11111100|011 */
    { 0x07ffffe4, 27 },  /*       (222)  |11111111|11111111|11111100|100 */
    { 0x07ffffe5, 27 },  /*       (223)  |11111111|11111111|11111100|101 */
    { 0x000fffec, 20 },  /*       (224)  |11111111|11111110|1100 */
    { 0x00fffff3, 24 },  /*       (225)  |11111111|11111111|11110011 */
    { 0x000fffed, 20 },  /*       (226)  |11111111|11111110|1101 */
    { 0x001fffe6, 21 },  /*       (227)  |11111111|11111111|00110 */
    { 0x003fffe9, 22 },  /*       (228)  |11111111|11111111|101001 */
    { 0x001fffe7, 21 },  /*       (229)  |11111111|11111111|00111 */
    { 0x001fffe8, 21 },  /*       (230)  |11111111|11111111|01000 */
    { 0x007ffff3, 23 },  /*       (231)  |11111111|11111111|1110011 */
    { 0x003fffea, 22 },  /*       (232)  |11111111|11111111|101010 */
    { 0x003fffeb, 22 },  /*       (233)  |11111111|11111111|101011 */
    { 0x01ffffee, 25 },  /*       (234)  |11111111|11111111|11110111|0 */
    { 0x01ffffef, 25 },  /*       (235)  |11111111|11111111|11110111|1 */
    { 0x00fffff4, 24 },  /*       (236)  |11111111|11111111|11110100 */
    { 0x00fffff5, 24 },  /*       (237)  |11111111|11111111|11110101 */
    { 0x03ffffea, 26 },  /*       (238)  |11111111|11111111|11111010|10 */
    { 0x007ffff4, 23 },  /*       (239)  |11111111|11111111|1110100 */
    { 0x03ffffeb, 26 },  /*       (240)  |11111111|11111111|11111010|11 */
    { 0x07ffffe6, 27 },  /*       (241)  |11111111|11111111|11111100|110 */
    { 0x03ffffec, 26 },  /*       (242)  |11111111|11111111|11111011|00 */
    { 0x03ffffed, 26 },  /*       (243)  |11111111|11111111|11111011|01 */
    { 0x07ffffe7, 27 },  /*       (244)  |11111111|11111111|11111100|111 */
    { 0x07ffffe8, 27 },  /*       (245)  |11111111|11111111|11111101|000 */
    { 0x07ffffe9, 27 },  /*       (246)  |11111111|11111111|11111101|001 */
    { 0x07ffffea, 27 },  /*       (247)  |11111111|11111111|11111101|010 */
    { 0x07ffffeb, 27 },  /*       (248)  |11111111|11111111|11111101|011 */
    { 0x0ffffffe, 28 },  /*       (249)  |11111111|11111111|11111111|1110 */
    { 0x07ffffec, 27 },  /*       (250)  |11111111|11111111|11111101|100 */
    { 0x07ffffed, 27 },  /*       (251)  |11111111|11111111|11111101|101 */
    { 0x07ffffee, 27 },  /*       (252)  |11111111|11111111|11111101|110 */
    { 0x07ffffef, 27 },  /*       (253)  |11111111|11111111|11111101|111 */
    { 0x07fffff0, 27 },  /*       (254)  |11111111|11111111|11111110|000 */
    { 0x03ffffee, 26 },  /*       (255)  |11111111|11111111|11111011|10 */
    { 0x3fffffff, 30 },  /* EOS   (256)  |11111111|11111111|11111111|111111 */
};


/* RFC 7541 Appendix A. */
static const char  *static_table[62][2] = {
    { NULL, NULL },
    { ":authority", "" },
    { ":method", "GET" },
    { ":method", "POST" },
    { ":path", "/" },
    { ":path", "/index.html" },
    { ":scheme", "http" },
    { ":scheme", "https" },
    { ":status", "200" },
    { ":status", "204" },
    { ":status", "206" },
    { ":status", "304" },
    { ":status", "400" },
    { ":status", "404" },
    { ":status", "500" },
    { "accept-charset", "" },
    { "accept-encoding", "gzip, deflate" },
    { "accept-language", "" },
    { "accept-ranges", "" },
    { "accept", "" },
    { "access-control-allow-origin", "" },
    { "age", "" },
    { "allow", "" },
    { "authorization", "" },
    { "cache-control", "" },
    { "content-disposition", "" },
    { "content-encoding", "" },
    { "content-language", "" },
    { "content-length", "" },
    { "content-location", "" },
    { "content-range", "" },
    { "content-type", "" },
    { "cookie", "" },
    { "date", "" },
    { "etag", "" },
    { "expect", "" },
    { "expires", "" },
    { "from", "" },
    { "host", "" },
    { "if-match", "" },
    { "if-modified-since", "" },
    { "if-none-match", "" },
    { "if-range", "" },
    { "if-unmodified-since", "" },
    { "last-modified", "" },
    { "link", "" },
    { "location", "" },
    { "max-forwards", "" },
    { "proxy-authenticate", "" },
    { "proxy-authorization", "" },
    { "range", "" },
    { "referer", "" },
    { "refresh", "" },
    { "retry-after", "" },
    { "server", "" },
    { "set-cookie", "" },
    { "strict-transport-security", "" },
    { "transfer-encoding", "" },
    { "user-agent", "" },
    { "vary", "" },
    { "via", "" },
    { "www-authenticate", "" },
};


/* Must match H2X_HPACK_STATIC_HASH as printed below. */
static unsigned
static_hash(const char *s, size_t len, unsigned a, unsigned b, unsigned bits)
{
    unsigned  h;

    h = (unsigned) len * a + (unsigned char) s[0] * b
        + (unsigned char) s[len - 1];
    return (h * 0x9e3779b1u) >> (32 - bits);
}


static void
fail(const char *what, int sym)
{
    fprintf(stderr, "h2x_huff_gen: %s (symbol %d)\n", what, sym);
    exit(1);
}


static void
print_cstr(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            putchar('\\');
        }
        putchar(*s);
    }
    putchar('"');
}


int
main(void)
{
    int        sym, i, n, len, order[257], count[31], first[31], seen;
    int        offset[31];
    unsigned   a, b, bits, slot, slots[256], fa = 0, fb = 0, fbits = 0;
    uint32_t   code, limit[31], next;
    uint64_t   kraft;
    uint32_t   dec[1 << PEEK];

    /* completeness: sum of 2^-len == 1, in units of 2^-30 */
    kraft = 0;
    memset(count, 0, sizeof(count));
    for (sym = 0; sym < 257; sym++) {
        if (huff[sym].len < 5 || huff[sym].len > 30
            || (huff[sym].code >> huff[sym].len) != 0)
        {
            fail("bad length or code", sym);
        }
        kraft += (uint64_t) 1 << (30 - huff[sym].len);
        count[huff[sym].len]++;
    }
    if (kraft != (uint64_t) 1 << 30) {
        fail("code is not complete", -1);
    }
    if (huff[256].len != 30 || huff[256].code != 0x3fffffff) {
        fail("EOS is not 30 ones", 256);
    }

    /* canonical order: by length, then symbol */
    n = 0;
    for (len = 5; len <= 30; len++) {
        for (sym = 0; sym < 257; sym++) {
            if ((int) huff[sym].len == len) {
                order[n++] = sym;
            }
        }
    }

    code = 0;
    len = 5;
    for (i = 0; i < 257; i++) {
        sym = order[i];
        while (len < (int) huff[sym].len) {
            code <<= 1;
            len++;
        }
        if (huff[sym].code != code) {
            fail("code is not canonical", sym);
        }
        code++;
    }

    /* long-code tables */
    next = 0;
    n = 0;
    for (len = 0; len <= 30; len++) {
        first[len] = 0;
        offset[len] = n;
        if (len >= 5) {
            for (i = 0; i < 257; i++) {
                if ((int) huff[order[i]].len == len) {
                    first[len] = (int) huff[order[i]].code;
                    break;
                }
            }
            n += count[len];
            if (count[len]) {
                next = (uint32_t) ((((uint64_t) first[len] + count[len])
                                    << (32 - len)) - 1) + 1;
                if (first[len] + count[len] == 1 << len) {
                    next = 0xffffffff;   /* the last length */
                }
            }
        }
        limit[len] = next;
    }

    /* peek table: one or two symbols per PEEK-bit window */
    for (i = 0; i < 1 << PEEK; i++) {
        int       s1 = -1, s2 = -1;
        unsigned  l1 = 0, l2 = 0, rest;

        for (sym = 0; sym < 257; sym++) {
            if ((int) huff[sym].len <= PEEK
                && (uint32_t) (i >> (PEEK - huff[sym].len)) == huff[sym].code)
            {
                s1 = sym;
                l1 = huff[sym].len;
                break;
            }
        }
        dec[i] = 0;
        if (s1 < 0) {
            continue;
        }
        rest = (unsigned) i & ((1u << (PEEK - l1)) - 1);
        for (sym = 0; sym < 256; sym++) {
            if (huff[sym].len <= PEEK - l1
                && rest >> (PEEK - l1 - huff[sym].len) == huff[sym].code)
            {
                s2 = sym;
                l2 = huff[sym].len;
                break;
            }
        }
        if (s2 < 0) {
            /* one symbol: sym2 is unused, both lengths are l1 */
            dec[i] = (uint32_t) s1 | l1 << 16 | l1 << 24;
        } else {
            dec[i] = (uint32_t) s1 | (uint32_t) s2 << 8 | (l1 + l2) << 16
                     | l1 << 24;
        }
    }

    /* static name hash: the smallest table without collisions */
    for (bits = 6; bits <= 8 && !fbits; bits++) {
        for (a = 1; a < 64 && !fbits; a++) {
            for (b = 1; b < 64 && !fbits; b++) {
                memset(slots, 0, sizeof(slots));
                seen = 1;
                for (i = 1; i <= 61; i++) {
                    if (i > 1 && strcmp(static_table[i][0],
                                        static_table[i - 1][0]) == 0)
                    {
                        continue;
                    }
                    slot = static_hash(static_table[i][0],
                                       strlen(static_table[i][0]), a, b, bits);
                    if (slots[slot]) {
                        seen = 0;
                        break;
                    }
                    slots[slot] = (unsigned) i;
                }
                if (seen) {
                    fa = a;
                    fb = b;
                    fbits = bits;
                }
            }
        }
    }
    if (!fbits) {
        fail("no collision-free static hash", -1);
    }
    memset(slots, 0, sizeof(slots));
    for (i = 61; i >= 1; i--) {
        slots[static_hash(static_table[i][0], strlen(static_table[i][0]),
                          fa, fb, fbits)] = (unsigned) i;
    }

    printf("/*\n * Generated by common/tools/h2x_huff_gen.c from RFC 7541"
           " Appendices A and B:\n * do not edit (make gen).\n */\n\n");
    printf("#ifndef _H2X_HUFF_TABLE_H_INCLUDED_\n"
           "#define _H2X_HUFF_TABLE_H_INCLUDED_\n\n\n");
    printf("#define H2X_HUFF_PEEK  %d\n\n", PEEK);

    printf("static const uint32_t  h2x_huff_code[257] = {");
    for (sym = 0; sym < 257; sym++) {
        printf("%s0x%08x,", sym % 6 ? " " : "\n    ", huff[sym].code);
    }
    printf("\n};\n\n");

    printf("static const uint8_t  h2x_huff_len[257] = {");
    for (sym = 0; sym < 257; sym++) {
        printf("%s%2u,", sym % 12 ? " " : "\n    ", huff[sym].len);
    }
    printf("\n};\n\n");

    printf("static const uint64_t  h2x_huff_enc[256] = {");
    for (sym = 0; sym < 256; sym++) {
        printf("%s0x%02x%08x,", sym % 4 ? " " : "\n    ", huff[sym].len,
               huff[sym].code);
    }
    printf("\n};\n\n");

    printf("static const uint32_t  h2x_huff_dec[%d] = {", 1 << PEEK);
    for (i = 0; i < 1 << PEEK; i++) {
        printf("%s0x%08x,", i % 6 ? " " : "\n    ", dec[i]);
    }
    printf("\n};\n\n");

    printf("static const uint32_t  h2x_huff_limit[31] = {");
    for (len = 0; len <= 30; len++) {
        printf("%s0x%08x,", len % 6 ? " " : "\n    ", limit[len]);
    }
    printf("\n};\n\n");

    printf("static const int32_t  h2x_huff_base[31] = {");
    for (len = 0; len <= 30; len++) {
        printf("%s%11d,", len % 6 ? " " : "\n    ", first[len] - offset[len]);
    }
    printf("\n};\n\n");

    printf("static const uint16_t  h2x_huff_sorted[257] = {");
    for (i = 0; i < 257; i++) {
        printf("%s%3d,", i % 12 ? " " : "\n    ", order[i]);
    }
    printf("\n};\n\n\n");

    printf("typedef struct {\n"
           "    const char    *name;\n"
           "    const char    *value;\n"
           "    uint32_t       name_len;\n"
           "    uint32_t       value_len;\n"
           "} h2x_hpack_static_t;\n\n");
    printf("static const h2x_hpack_static_t  h2x_hpack_static[62] = {\n"
           "    { \"\", \"\", 0, 0 },\n");
    for (i = 1; i <= 61; i++) {
        printf("    { ");
        print_cstr(static_table[i][0]);
        printf(", ");
        print_cstr(static_table[i][1]);
        printf(", %zu, %zu },  /* %d */\n", strlen(static_table[i][0]),
               strlen(static_table[i][1]), i);
    }
    printf("};\n\n");

    printf("static const uint8_t  h2x_hpack_static_first[62] = {");
    for (i = 0, n = 0; i <= 61; i++) {
        if (i <= 1 || strcmp(static_table[i][0], static_table[i - 1][0]) != 0) {
            n = i;
        }
        printf("%s%2d,", i % 16 ? " " : "\n    ", n);
    }
    printf("\n};\n\n");

    printf("static const uint8_t  h2x_hpack_static_span[62] = {");
    for (i = 0; i <= 61; i++) {
        n = 0;
        if (i >= 1 && (i == 1 || strcmp(static_table[i][0],
                                        static_table[i - 1][0]) != 0))
        {
            for (n = 1; i + n <= 61
                        && strcmp(static_table[i + n][0], static_table[i][0])
                           == 0;
                 n++)
            {
                /* void */
            }
        }
        printf("%s%2d,", i % 16 ? " " : "\n    ", n);
    }
    printf("\n};\n\n");

    printf("#define H2X_HPACK_STATIC_HASH(s, len)"
           "                                      \\\n"
           "    ((((unsigned) (len) * %uu + (unsigned) (s)[0] * %uu"
           "                         \\\n"
           "       + (unsigned) (s)[(len) - 1]) * 0x9e3779b1u) >> %u)\n\n",
           fa, fb, 32 - fbits);
    printf("static const uint8_t  h2x_hpack_static_slot[%u] = {", 1u << fbits);
    for (slot = 0; slot < 1u << fbits; slot++) {
        printf("%s%2u,", slot % 16 ? " " : "\n    ", slots[slot]);
    }
    printf("\n};\n\n\n#endif /* _H2X_HUFF_TABLE_H_INCLUDED_ */\n");

    return 0;
}
