package main

// The vocabularies names, titles, descriptions and tags are built from. They are ordered: lists
// sampled with zipf put their most frequent words first, so that text search finds a realistic
// spread of matches: a few words everywhere, most in tens or hundreds of entities.

// areas are business areas: a domain's area colours its systems and their components.
var areas = []string{
	"payments", "checkout", "cart", "orders", "billing", "invoicing", "ledger", "fraud",
	"identity", "profile", "search", "catalog", "pricing", "promotions", "inventory", "warehouse",
	"shipping", "fulfilment", "returns", "reviews", "recommendations", "notifications", "messaging",
	"analytics", "reporting", "marketing", "loyalty", "subscriptions", "tax", "accounting",
	"compliance", "audit", "onboarding", "support", "media", "localization", "merchandising",
	"partner", "logistics", "supplier", "customer", "booking",
}

// nouns name what a component, API or resource is within its area.
var nouns = []string{
	"gateway", "engine", "processor", "router", "scheduler", "importer", "exporter", "sync",
	"adapter", "connector", "resolver", "indexer", "aggregator", "validator", "dispatcher",
	"tracker", "collector", "publisher", "consumer", "broker", "store", "registry", "manager",
	"planner", "calculator", "renderer", "generator", "monitor", "webhook", "portal", "console",
	"bridge", "reconciler", "notifier", "scanner", "matcher", "optimizer", "forecaster",
	"estimator", "archiver",
}

// systemWords finish system names ("payments-core-0012").
var systemWords = []string{"platform", "core", "hub", "suite", "stack", "backbone"}

// Description vocabularies, most frequent first.
var (
	verbs = []string{
		"handles", "processes", "stores", "serves", "tracks", "validates", "publishes",
		"aggregates", "schedules", "reconciles", "computes", "routes", "indexes", "renders",
		"exports", "imports", "caches", "monitors", "enriches", "deduplicates", "archives",
		"forecasts", "transforms", "streams", "audits",
	}
	adjectives = []string{
		"customer", "internal", "nightly", "incremental", "regional", "historical", "realtime",
		"pending", "failed", "scheduled", "recurring", "wholesale", "international", "mobile",
		"guest", "premium", "seasonal", "bulk", "manual", "expired",
	}
	objects = []string{
		"events", "requests", "records", "refunds", "invoices", "payouts", "sessions", "metrics",
		"reports", "shipments", "parcels", "coupons", "vouchers", "prices", "listings", "ratings",
		"tickets", "chargebacks", "settlements", "transfers", "receipts", "quotes", "addresses",
		"documents", "images", "thumbnails", "translations", "feeds", "snapshots", "consents",
		"tokens", "credentials", "accounts", "balances", "transactions", "entries", "claims",
		"disputes", "alerts", "deliveries",
	}
	audiences = []string{
		"merchants", "customers", "sellers", "partners", "suppliers", "couriers", "agents",
		"admins", "analysts", "operators", "shoppers", "drivers", "vendors", "auditors",
	}
	technologies = []string{
		"kafka", "postgres", "redis", "grpc", "graphql", "elasticsearch", "spark", "airflow",
		"kubernetes", "snowflake", "bigquery", "dynamodb", "rabbitmq", "cassandra", "flink",
	}
	guarantees = []string{"ordering", "durability", "consistency", "latency", "retry", "delivery"}
	regions    = []string{"emea", "americas", "apac", "nordics", "dach", "benelux", "iberia"}
	adverbs    = []string{"reliably", "daily", "asynchronously", "securely", "hourly", "continuously"}
)

// Tags: every component gets a language and a tier, most get one or two more.
var (
	languageTags = []string{
		"java", "go", "python", "typescript", "kotlin", "javascript", "scala", "rust", "ruby",
		"php", "csharp", "elixir",
	}
	tierTags  = []string{"tier-2", "tier-3", "tier-1"}
	otherTags = []string{
		"rest", "kafka", "postgres", "grpc", "kubernetes", "react", "spring", "redis", "graphql",
		"aws", "gdpr", "pci", "nodejs", "django", "docker", "terraform", "mysql", "mongodb",
		"elasticsearch", "rabbitmq", "gcp", "serverless", "pii", "sox", "critical", "internal",
		"external", "public-api", "batch", "streaming", "realtime", "legacy", "frontend",
		"backend", "mobile", "security", "observability", "ml", "data", "vue", "s3",
		"payments", "search", "identity", "analytics", "checkout", "cdn", "oauth", "openapi",
	}
)

// People's names for users.
var (
	firstNames = []string{
		"maria", "james", "anna", "david", "sofia", "michael", "laura", "daniel", "emma", "lucas",
		"olivia", "noah", "mia", "liam", "chloe", "ethan", "amelia", "mateo", "zoe", "arjun",
		"priya", "wei", "yuki", "kwame", "fatima", "omar", "ingrid", "lars", "elena", "tomas",
		"nina", "pavel", "aisha", "diego", "hana", "samuel", "clara", "felix", "ines", "rafael",
	}
	lastNames = []string{
		"garcia", "smith", "mueller", "rossi", "kowalski", "nguyen", "kim", "silva", "jensen",
		"novak", "tanaka", "okafor", "petrov", "santos", "fischer", "dubois", "hansen", "lopez",
		"costa", "ivanova", "murphy", "chen", "patel", "singh", "ahmed", "larsen", "berg",
		"moreau", "weber", "schmidt", "adeyemi", "lindqvist", "haddad", "yilmaz", "sato",
	}
)

// codenames are project names. Each system is a project, and everything in it says so; unlike the
// other vocabularies, which are small and so match ever more components as the catalog grows,
// these give search words that stay selective from a hundred components to a hundred thousand.
var codenames = []string{
	"andromeda", "antares", "aquila", "arcturus", "betelgeuse", "capella", "carina", "cassiopeia",
	"centaurus", "cygnus", "deneb", "draco", "eridanus", "fomalhaut", "hydra", "lyra", "orion",
	"pegasus", "perseus", "polaris", "procyon", "regulus", "rigel", "sirius", "spica", "vega",
	"altair", "aldebaran", "bellatrix", "canopus", "castor", "pollux", "mizar", "alcor", "electra",
	"merope", "taygeta", "albatross", "badger", "barracuda", "bison", "caracal", "cheetah",
	"condor", "cougar", "coyote", "falcon", "ferret", "gazelle", "gecko", "heron", "ibex", "jackal",
	"jaguar", "kestrel", "kingfisher", "koala", "lemur", "leopard", "lynx", "macaw", "mamba",
	"marten", "meerkat", "mongoose", "narwhal", "ocelot", "osprey", "otter", "panther", "pelican",
	"penguin", "puffin", "puma", "quokka", "raven", "salamander", "seahorse", "stingray", "tapir",
	"toucan", "walrus", "wolverine", "wombat", "zebra", "agate", "amber", "basalt", "beryl",
	"cobalt", "coral", "feldspar", "garnet", "granite", "jade", "jasper", "marble", "obsidian",
	"onyx", "opal", "quartz", "sapphire", "slate", "topaz", "zircon", "danube", "ganges", "indus",
	"loire", "mekong", "rhine", "seine", "thames", "volga", "yukon", "zambezi", "aconcagua",
	"denali", "elbrus", "everest", "kilimanjaro", "matterhorn", "olympus", "rainier", "whitney",
	"acacia", "aspen", "baobab", "birch", "cedar", "cypress", "juniper", "magnolia", "maple",
	"redwood", "sequoia", "sycamore", "willow", "aurora", "blizzard", "cyclone", "monsoon",
	"tempest", "tornado", "typhoon", "zephyr", "avalanche", "glacier", "lagoon", "mesa", "tundra",
	"savanna", "fjord", "atoll", "canyon", "delta", "estuary", "geyser", "oasis", "prairie",
	"archipelago", "nebula", "quasar", "pulsar", "comet", "meteor", "eclipse", "solstice",
	"equinox", "zenith", "horizon", "meridian", "compass", "sextant", "astrolabe", "lantern",
	"beacon", "lighthouse", "harbor", "anchor", "galleon", "frigate", "schooner", "clipper",
	"trident", "kraken", "phoenix", "griffin", "chimera", "sphinx", "pixie", "goblin", "titan",
	"atlas", "hyperion", "oberon", "miranda", "ariel", "umbriel", "callisto", "ganymede", "europa",
	"triton", "nereid", "proteus", "charon", "hydrus", "tucana",
	"phoenicia", "carthage", "babylon", "nineveh", "petra", "palmyra", "troy", "sparta", "delphi",
}
