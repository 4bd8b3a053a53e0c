/** The page's texts (messages.js), for the tests that check both languages have every key. */
export type Message = string | ((args: Record<string, unknown>) => string);
export const messages: { en: Record<string, Message>; "zh-CN": Record<string, Message> };
