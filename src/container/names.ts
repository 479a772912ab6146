// Random container names in Docker's adjective_surname style.
const ADJECTIVES = [
  "admiring", "brave", "calm", "clever", "eager", "elegant", "festive", "focused", "gallant", "happy",
  "jolly", "keen", "loving", "modest", "nifty", "optimistic", "quirky", "relaxed", "serene", "sharp",
  "stoic", "tender", "upbeat", "vibrant", "wizardly", "youthful", "zealous", "bold", "crisp", "dreamy",
];
const SURNAMES = [
  "babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "fermat", "gauss", "hopper",
  "hypatia", "kepler", "knuth", "lamport", "lovelace", "mccarthy", "noether", "pascal", "ritchie", "shannon",
  "thompson", "torvalds", "turing", "wozniak", "liskov", "hamilton", "goldberg", "kilby", "ptolemy", "yalow",
];

export function randomName(): string {
  const r = crypto.getRandomValues(new Uint32Array(3));
  return `${ADJECTIVES[r[0]! % ADJECTIVES.length]}_${SURNAMES[r[1]! % SURNAMES.length]}${r[2]! % 10 === 0 ? "" : r[2]! % 100}`;
}

export { randomId } from "../store/ids";
