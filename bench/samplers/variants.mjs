export const variants = {};
